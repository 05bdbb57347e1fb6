package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// keyManagerAt builds a KeyManager on a real SQLite store with its keys
// created, whose clock the caller moves.
func keyManagerAt(t *testing.T, now *atomic.Int64) *KeyManager {
	t.Helper()
	st := storetest.Open(t, "sqlite")
	var n atomic.Int64
	m, err := NewKeyManager(st, make([]byte, MasterKeySize), rand.Reader, func() time.Time { return time.Unix(0, now.Load()) },
		func() string { return fmt.Sprintf("key-%d", n.Add(1)) },
		KeyManagerOptions{PublishAhead: time.Hour, RetireAfter: time.Hour, CacheTTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.EnsureKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExpiredKeysAreLoadedOnce: requests that find the signing keys' cache
// expired together share one read and decryption of the keys (they used to
// each read and decrypt them, every 30 s, on the token endpoint's path); a
// rotation's invalidation is not undone by a load that began before it; a
// caller whose context ends stops waiting.
func TestExpiredKeysAreLoadedOnce(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC).UnixNano())
	m := keyManagerAt(t, &now)
	if _, err := m.published(t.Context()); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(31 * time.Second)) // the cache has expired

	var loads atomic.Int64
	release := make(chan struct{})
	m.loadHook = func() {
		loads.Add(1)
		<-release
	}
	const callers = 16
	var started, done sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		started.Add(1)
		done.Go(func() {
			started.Done()
			if _, err := m.published(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	started.Wait()
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("%d callers finding the cache expired read the keys %d times, want once", callers, n)
	}

	// A load that began before an invalidation does not fill the cache.
	now.Add(int64(31 * time.Second))
	loads.Store(0)
	m.loadHook = func() { loads.Add(1); m.invalidate() }
	if _, err := m.published(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.loadHook = func() { loads.Add(1) }
	if _, err := m.published(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := loads.Load(); n != 2 {
		t.Errorf("after an invalidation during a load, the next call read the keys %d times in all, want 2 (the first load is not cached)", n)
	}

	// A caller whose context ends while the load it joined runs stops
	// waiting; the load goes on for the others.
	now.Add(int64(31 * time.Second))
	entered, block := make(chan struct{}), make(chan struct{})
	m.loadHook = func() { close(entered); <-block }
	first := make(chan error, 1)
	go func() {
		_, err := m.published(context.Background())
		first <- err
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	joined := make(chan error, 1)
	go func() {
		_, err := m.published(ctx)
		joined <- err
	}()
	cancel()
	if err := <-joined; !errors.Is(err, context.Canceled) {
		t.Errorf("published whose context ended during the load = %v, want context.Canceled", err)
	}
	close(block)
	if err := <-first; err != nil {
		t.Errorf("the load's first caller: %v", err)
	}
}
