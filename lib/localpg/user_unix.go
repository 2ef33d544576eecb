//go:build unix

package localpg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// runAs is the unprivileged user the server runs as when we are root,
// because initdb and postgres refuse to run as root. A nil *runAs means
// "ourselves" and makes its methods plain.
type runAs struct {
	name     string
	uid, gid int
}

// lookupRunAs returns nil unless the process is root; then the "postgres"
// user if the machine has one (a PostgreSQL package created it for exactly
// this), else "nobody".
func lookupRunAs() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("user %s: non-numeric uid/gid", name))
			continue
		}
		return &runAs{name: name, uid: uid, gid: gid}, nil
	}
	return nil, fmt.Errorf("running as root needs an unprivileged user to run postgres: %w", errors.Join(errs...))
}

func (r *runAs) sysProcAttr(newGroup bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: newGroup}
	if r != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(r.uid), Gid: uint32(r.gid)}
	}
	return attr
}

// mkdir creates dir, private to the server's user.
func (r *runAs) mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("localpg: create dir: %w", err)
	}
	if r == nil {
		return nil
	}
	if err := os.Chown(dir, r.uid, r.gid); err != nil {
		return fmt.Errorf("localpg: chown %s to %s: %w", dir, r.name, err)
	}
	return nil
}

// canReach reports whether the user can search every parent of dir; root
// is not subject to the check, so this reads the permission bits (ignoring
// supplementary groups and ACLs).
func (r *runAs) canReach(dir string) bool {
	if r == nil {
		return true
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false
		}
		perm := fi.Mode().Perm()
		var bit fs.FileMode = 0o001
		switch {
		case int(st.Uid) == r.uid:
			bit = 0o100
		case int(st.Gid) == r.gid:
			bit = 0o010
		}
		if perm&bit == 0 {
			return false
		}
		if p == filepath.Dir(p) {
			return true
		}
	}
}

// chownTree gives an existing cluster to the server's user, for example one
// created by an earlier run under another user; postgres refuses a data
// directory it does not own.
func (r *runAs) chownTree(dir string) error {
	if r == nil {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == r.uid {
		return nil
	}
	err = filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, r.uid, r.gid)
	})
	if err != nil {
		return fmt.Errorf("localpg: chown data dir to %s: %w", r.name, err)
	}
	return nil
}

// processAlive reports whether pid exists; EPERM means it exists under
// another user.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
