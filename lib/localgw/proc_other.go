//go:build !unix

package localgw

import (
	"os"
	"syscall"
)

var terminate = os.Kill

func ownProcessGroup() *syscall.SysProcAttr { return nil }
