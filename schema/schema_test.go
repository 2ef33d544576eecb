package schema_test

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/chatwire/chatwire/schema"
)

// Version must name the newest migration, and the migrations must be numbered
// 001 to Version without a gap (tern refuses gaps): a migration added without
// bumping Version would let /api/health call a database a migration behind
// "ok".
func TestVersionIsTheNewestMigration(t *testing.T) {
	names, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		var n int
		if _, err := fmt.Sscanf(name, "%03d_", &n); err != nil || n != i+1 {
			t.Errorf("migration %d is %s, want %03d_topic.sql", i+1, name, i+1)
		}
	}
	if got, want := schema.Version, int32(len(names)); got != want {
		t.Errorf("schema.Version = %d, but the newest migration is number %d: bump Version with the migration", got, want)
	}
}
