//go:build !unix

package dbtest

import (
	"errors"
	"os"
)

const (
	lockShared = iota
	lockExclusive
)

// lockFile needs flock, which dbtest uses only on unix: elsewhere the tests
// need a server at TEST_DATABASE_URL.
func lockFile(path string, how int) (*os.File, error) {
	return nil, errors.New("the private server needs unix file locks; set TEST_DATABASE_URL")
}

func tryUpgrade(f *os.File) bool { return false }
