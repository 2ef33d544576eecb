//go:build !unix

package localpg

import (
	"fmt"
	"os"
	"syscall"
)

// runAs has no counterpart outside unix: the server runs as ourselves.
type runAs struct{ name string }

func lookupRunAs() (*runAs, error)                              { return nil, nil }
func (r *runAs) sysProcAttr(newGroup bool) *syscall.SysProcAttr { return nil }
func (r *runAs) canReach(dir string) bool                       { return true }
func (r *runAs) chownTree(dir string) error                     { return nil }

func (r *runAs) mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("localpg: create dir: %w", err)
	}
	return nil
}

// processAlive cannot tell without a signal 0; assume alive and let the
// connection check in running decide.
func processAlive(pid int) bool { return true }
