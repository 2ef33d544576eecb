//go:build unix

package localgw

import "syscall"

var terminate = syscall.SIGTERM

func ownProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
