package cli

import (
	"context"
	"fmt"
	"net"
	"path/filepath"

	"github.com/harrier-ir/harrier/internal/web"
)

// runServe serves the local investigation UI over a case until interrupted.
// It opens no browser: it prints the URL (which carries the token, the only
// secret it prints) for the responder to open where they choose.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "serve", "--case DIR [--addr 127.0.0.1] [--port 0]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	addr := fs.String("addr", "127.0.0.1", "loopback address to listen on; any other is refused")
	port := fs.Int("port", 0, "port to listen on; 0 picks a free one")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if ip := net.ParseIP(*addr); *addr != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageErr("--addr %s: serve listens on a loopback address only (the UI shows evidence)", *addr)
	}
	if *port < 0 || *port > 65535 {
		return usageErr("--port %d: out of range", *port)
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	// sandboxed although it runs no user SQL: an endpoint that builds a
	// query wrongly still cannot reach a file, the network or an extension
	c, st, err := openForRead(ctx, dir, true)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	ln, err := web.Listen(*addr, *port)
	if err != nil {
		return err
	}
	srv, err := web.New(st, ln.Addr().String(), web.Options{CaseName: filepath.Base(filepath.Clean(dir)), Log: e.stderr})
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(e.stdout, "Serving case %s (read-only) at\n\n  %s\n\nOpen it in a browser on this machine. Press Ctrl-C to stop.\n", safe(dir), srv.URL())
	return web.Serve(ctx, ln, srv)
}
