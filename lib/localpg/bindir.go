package localpg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// installGlobs are the usual places PostgreSQL's server binaries live when
// they are not on PATH (Debian and Ubuntu never put initdb there). Within one
// glob the highest version wins.
var installGlobs = []string{
	"/usr/lib/postgresql/*/bin",                          // Debian, Ubuntu
	"/usr/pgsql-*/bin",                                   // RHEL, Fedora (PGDG)
	"/usr/local/pgsql/bin",                               // built from source
	"/opt/homebrew/opt/postgresql*/bin",                  // Homebrew, Apple silicon
	"/opt/homebrew/bin",                                  //
	"/usr/local/opt/postgresql*/bin",                     // Homebrew, Intel
	"/usr/local/bin",                                     //
	"/Applications/Postgres.app/Contents/Versions/*/bin", // Postgres.app
	"/opt/local/lib/postgresql*/bin",                     // MacPorts
}

// serverBinaries must all sit in one directory: pg_ctl finds postgres next
// to itself.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// FindBinDir returns the directory holding initdb, pg_ctl and postgres:
// the one of pg_ctl on PATH first, then the usual install folders, the highest
// version first. The error names everything that was searched.
func FindBinDir() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
		// A symlink farm such as /usr/local/bin may lack initdb; the real
		// install directory has all of them.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
	}
	for _, g := range installGlobs {
		matches, _ := filepath.Glob(g) // the patterns are constant and valid
		sortByVersionDesc(matches)
		candidates = append(candidates, matches...)
	}
	for _, dir := range candidates {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("localpg: %s not found on PATH or in %s: install the PostgreSQL server or set DATABASE_URL",
		strings.Join(serverBinaries, ", "), strings.Join(installGlobs, ", "))
}

func hasServerBinaries(dir string) bool {
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

var digits = regexp.MustCompile(`\d+`)

// sortByVersionDesc orders paths such as /usr/lib/postgresql/9.6/bin and
// /usr/lib/postgresql/16/bin by the numbers in them, numerically, highest first.
func sortByVersionDesc(paths []string) {
	version := func(p string) []int {
		var v []int
		for _, d := range digits.FindAllString(p, -1) {
			n, err := strconv.Atoi(d)
			if err != nil {
				n = 0
			}
			v = append(v, n)
		}
		return v
	}
	slices.SortStableFunc(paths, func(a, b string) int {
		return slices.Compare(version(b), version(a))
	})
}
