// Package handoff passes a running daemon's listening sockets and state-directory lock to
// the process that replaces it, so that a restart or an upgrade refuses no connection: the
// old process starts the new one with the sockets as inherited file descriptors (named in
// the environment variable Env), the new one serves on them and says so through a readiness
// pipe, and only then does the old one stop accepting and drain.
//
// It knows nothing of routes, stores or instances: callers name each listener, and the
// package only hands out, records and passes on file descriptors. Linux and other Unix
// systems only (fd inheritance and flock).
package handoff
