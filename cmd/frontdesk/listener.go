package main

import (
	"net"
	"sync"
)

// closeOnceListener is a listener that may be closed more than once; every
// Close after the first returns the first one's result.
//
// serve closes its listener itself as soon as shutdown begins, before
// http.Server.Shutdown (which closes it again). Close returns only once the
// socket is closed, so from then on new connections are refused by the
// kernel. Shutdown alone first marks the server as shutting down — answers
// in flight then say "Connection: close" and their clients reconnect at once
// — and only then closes the listener: a connection made in that window
// waits in the accept queue and is reset with its request unread.
type closeOnceListener struct {
	net.Listener
	once sync.Once
	err  error
}

// Close closes the listener the first time and reports that result.
func (l *closeOnceListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
