package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// usage is what the server used during a measured phase.
type usage struct {
	rssMB         float64 // peak resident set of the server process
	serverCPUPct  float64 // of one core: 200% is both cores of this machine
	harnessCPUPct float64
	postgresCPU   float64 // the private Postgres's processes; 0 with DATABASE_URL
	// otherCPU is what the rest of the machine used meanwhile: near 0 on a
	// quiet machine (it includes the idle other server, and DATABASE_URL's
	// Postgres when that is used).
	otherCPU float64
	pgConns  int     // peak sessions of the server's pool
	wallS    float64 // how long the sampling lasted
}

// sampler watches the server process and its Postgres sessions every 250 ms.
type sampler struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	u      usage

	pid                      int
	others                   []int // more processes whose CPU is the server's
	others0                  map[int]time.Duration
	start                    time.Time
	serverCPU0, harnessCPU0  time.Duration
	serverCPUOK, harnessCPUk bool
	postmaster               int
	postgresCPU0             map[int]time.Duration
	machineCPU0              time.Duration
}

func startSampling(ctx context.Context, sys system, db *database) *sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &sampler{cancel: cancel, pid: sys.serverPID(), start: time.Now()}
	s.serverCPU0, s.serverCPUOK = cpuTime(s.pid)
	if o, ok := sys.(interface{ otherPIDs() []int }); ok {
		s.others, s.others0 = o.otherPIDs(), map[int]time.Duration{}
		for _, pid := range s.others {
			s.others0[pid], _ = cpuTime(pid)
		}
	}
	s.harnessCPU0, s.harnessCPUk = cpuTime(os.Getpid())
	s.machineCPU0 = machineBusy()
	if db != nil {
		s.postmaster = db.postmasterPID()
		s.postgresCPU0 = treeCPU(s.postmaster)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			rss := rssMB(s.pid)
			conns := 0
			if db != nil {
				qctx, qcancel := context.WithTimeout(ctx, time.Second)
				conns, _ = db.connections(qctx, sys.dbApp())
				qcancel()
			}
			s.mu.Lock()
			s.u.rssMB = max(s.u.rssMB, rss)
			s.u.pgConns = max(s.u.pgConns, conns)
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() usage {
	s.cancel()
	s.wg.Wait()
	wall := time.Since(s.start).Seconds()
	s.u.wallS = wall
	if cpu, ok := cpuTime(s.pid); ok && s.serverCPUOK {
		for _, pid := range s.others {
			if c, ok := cpuTime(pid); ok {
				cpu += c - s.others0[pid]
			}
		}
		s.u.serverCPUPct = round1((cpu - s.serverCPU0).Seconds() / wall * 100)
	}
	if cpu, ok := cpuTime(os.Getpid()); ok && s.harnessCPUk {
		s.u.harnessCPUPct = round1((cpu - s.harnessCPU0).Seconds() / wall * 100)
	}
	if s.postmaster > 0 {
		var total time.Duration
		for pid, cpu := range treeCPU(s.postmaster) {
			total += cpu - s.postgresCPU0[pid] // a new backend started from 0
		}
		s.u.postgresCPU = round1(total.Seconds() / wall * 100)
	}
	if busy := machineBusy(); busy > 0 {
		s.u.otherCPU = round1(max(0, (busy-s.machineCPU0).Seconds()/wall*100-s.u.serverCPUPct-s.u.harnessCPUPct-s.u.postgresCPU))
	}
	s.u.rssMB = round1(s.u.rssMB)
	return s.u
}

// machineBusy is the CPU time all cores spent on anything but idling, from
// /proc/stat.
func machineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// treeCPU is the CPU time of a process and its children, by pid.
func treeCPU(parent int) map[int]time.Duration {
	cpu := map[int]time.Duration{}
	if parent <= 0 {
		return cpu
	}
	if t, ok := cpuTime(parent); ok {
		cpu[parent] = t
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parentPID(pid) != parent {
			continue
		}
		if t, ok := cpuTime(pid); ok {
			cpu[pid] = t
		}
	}
	return cpu
}

func parentPID(pid int) int {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// cpuTime is the user plus system CPU time of a process, from /proc.
func cpuTime(pid int) (time.Duration, bool) {
	if pid <= 0 {
		return 0, false
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces; fields resume after its ')'.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}

// rssMB is a process's resident set size in MB, 0 when unknown.
func rssMB(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}
