package server

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// LimitConnsPerClient returns ln accepting at most max connections at once
// from one client address (IP); a connection past that is answered with a
// 503 and closed. Behind a load balancer or proxy every client shares its
// address, so the limit is off unless configured (SEEDGATE_MAX_CONNS_PER_CLIENT).
func LimitConnsPerClient(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, max: max, open: map[string]int{}}
}

type connLimiter struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientIP(c.RemoteAddr())
		l.mu.Lock()
		ok := l.open[ip] < l.max
		if ok {
			l.open[ip]++
		}
		l.mu.Unlock()
		if ok {
			return &limitedConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		go l.turnAway(c)
	}
}

func (l *connLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// turnAway answers a connection over the limit and closes it. The request is
// not read, beyond what the client has sent in the moment the answer takes.
func (l *connLimiter) turnAway(c net.Conn) {
	defer c.Close()
	body := fmt.Sprintf(`{"error":{"code":"unavailable","message":"too many connections from your address: at most %d at once (SEEDGATE_MAX_CONNS_PER_CLIENT)"}}`+"\n", l.max)
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_, err := fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"+
		"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s", len(body), body)
	if err != nil {
		return
	}
	// Half-close and drain a little so the answer is not lost to a reset
	// caused by the unread request.
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

func clientIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite lets the HTTP server half-close the connection as it would a
// plain TCP one.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
