// Package metrics exposes chatwire's operations in the Prometheus format, for
// the long-running commands (`serve`, `relay`). The Vercel functions do not
// import it: a function instance lives too briefly to be scraped.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatwire/chatwire/lib/chat"
)

// Sources of publishes, the "source" label: the API process publishing what
// its requests wrote (and the cron, stale step and database webhook it runs),
// or the relay.
const (
	SourceAPI   = "api"
	SourceRelay = "relay"
)

// Metrics is one process's registry and the instruments chatwire records.
type Metrics struct {
	registry *prometheus.Registry

	published      *prometheus.CounterVec
	failed         *prometheus.CounterVec
	publishSeconds *prometheus.HistogramVec
	requestSeconds *prometheus.HistogramVec
	probeSeconds   prometheus.Histogram
	probedOldest   prometheus.Gauge
}

// latencyBuckets span a fast local call to a Pusher timeout, in seconds.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns a registry with chatwire's instruments and the Go runtime's and
// process's standard collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatwire_events_published_total",
			Help: "Events Pusher accepted, by who published them (api or relay).",
		}, []string{"source"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatwire_events_publish_failed_total",
			Help: "Events whose publish failed; they stay pending and are retried.",
		}, []string{"source"}),
		publishSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chatwire_publish_duration_seconds",
			Help:    "Duration of one publish to Pusher (one or more HTTP calls), successful or not.",
			Buckets: latencyBuckets,
		}, []string{"source"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chatwire_http_request_duration_seconds",
			Help:    "Duration of API requests by route (send: /api/messages/send, poll: /api/messages/poll) and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "code"}),
		probeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatwire_relay_poll_duration_seconds",
			Help:    "Duration of the relay's wake-up probe of the pending events.",
			Buckets: latencyBuckets,
		}),
		probedOldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chatwire_relay_oldest_pending_age_seconds",
			Help: "Age of the oldest pending event at the relay's last probe; 0 when none.",
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.published, m.failed, m.publishSeconds, m.requestSeconds,
	)
	// Present from the start, so a dashboard shows 0 rather than nothing.
	for _, source := range []string{SourceAPI, SourceRelay} {
		m.published.WithLabelValues(source)
		m.failed.WithLabelValues(source)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRequest records one API request (httpapi.RequestObserver).
func (m *Metrics) ObserveRequest(route, method string, status int, took time.Duration) {
	m.requestSeconds.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// Publisher wraps p so that its publishes are counted under source.
func (m *Metrics) Publisher(source string, p chat.Publisher) chat.Publisher {
	return &countingPublisher{next: p, source: source, m: m}
}

type countingPublisher struct {
	next   chat.Publisher
	source string
	m      *Metrics
}

func (c *countingPublisher) Publish(ctx context.Context, events []chat.Event) error {
	start := time.Now()
	err := c.next.Publish(ctx, events)
	c.m.observePublish(c.source, len(events), time.Since(start), err)
	return err
}

func (m *Metrics) observePublish(source string, n int, took time.Duration, err error) {
	m.publishSeconds.WithLabelValues(source).Observe(took.Seconds())
	if err != nil {
		m.failed.WithLabelValues(source).Add(float64(n))
		return
	}
	m.published.WithLabelValues(source).Add(float64(n))
}

// Relay returns the relay's observer (relay.Observer) and registers the
// relay's own instruments.
func (m *Metrics) Relay() *RelayObserver {
	m.registry.MustRegister(m.probeSeconds, m.probedOldest)
	return &RelayObserver{m: m}
}

// RelayObserver records the relay's probes and publishes.
type RelayObserver struct{ m *Metrics }

// Probed records a wake-up probe.
func (o *RelayObserver) Probed(took, oldest time.Duration, ok bool) {
	o.m.probeSeconds.Observe(took.Seconds())
	if !ok {
		oldest = 0
	}
	o.m.probedOldest.Set(oldest.Seconds())
}

// Published records a relay publish.
func (o *RelayObserver) Published(n int, took time.Duration, err error) {
	o.m.observePublish(SourceRelay, n, took, err)
}

// Backlog is what the backlog gauges read at scrape time; lib/store
// implements it.
type Backlog interface {
	CountUnpublished(ctx context.Context) (int, error)
	OldestPendingAge(ctx context.Context) (time.Duration, bool, error)
}

// WatchBacklog adds the pending events' count and the oldest one's age,
// read from the database at each scrape (two short queries, bounded by a
// 2 s deadline; a failed read leaves the gauges out of that scrape and
// counts an error).
func (m *Metrics) WatchBacklog(b Backlog) {
	m.registry.MustRegister(&backlogCollector{b: b,
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatwire_backlog_read_errors_total",
			Help: "Scrapes that could not read the pending events from the database.",
		})})
}

var (
	backlogSizeDesc = prometheus.NewDesc("chatwire_events_pending",
		"Events not yet confirmed published (the backlog).", nil, nil)
	backlogAgeDesc = prometheus.NewDesc("chatwire_oldest_pending_event_age_seconds",
		"Age of the oldest event not yet confirmed published; 0 when none.", nil, nil)
)

type backlogCollector struct {
	b      Backlog
	errors prometheus.Counter
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogSizeDesc
	ch <- backlogAgeDesc
	c.errors.Describe(ch)
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	defer c.errors.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.b.CountUnpublished(ctx)
	if err != nil {
		c.errors.Inc()
		return
	}
	age, ok, err := c.b.OldestPendingAge(ctx)
	if err != nil {
		c.errors.Inc()
		return
	}
	if !ok {
		age = 0
	}
	ch <- prometheus.MustNewConstMetric(backlogSizeDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(backlogAgeDesc, prometheus.GaugeValue, age.Seconds())
}
