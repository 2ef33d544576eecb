package localpg

import (
	"slices"
	"testing"
)

func TestSortByVersionDesc(t *testing.T) {
	paths := []string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/13/bin"}
	sortByVersionDesc(paths)
	if got, want := paths, []string{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/13/bin", "/usr/lib/postgresql/9.6/bin"}; !slices.Equal(got, want) {
		t.Fatalf("sorted = %v, want %v", got, want)
	}
}
