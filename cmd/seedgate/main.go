// Command seedgate is the Seedance gateway: `seedgate serve` runs it,
// `seedgate migrate` prepares its database, `seedgate version` says which build.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "seedgate:", err)
			os.Exit(1)
		}
	}
}

const usage = `seedgate — a self-hosted gateway for Seedance video generation.

Usage:
  seedgate serve [flags]     run the gateway (see seedgate serve --help for every setting)
  seedgate migrate [flags]   create or upgrade the database, then exit
  seedgate version           print the version
  seedgate keys create|list|revoke   manage stored API keys in the database (seedgate keys for help)
  seedgate fake-ark [flags]  run an emulator of the Ark task API (an upstream for trying channels)
  seedgate catalog check FILE   validate a model catalog file (SEEDGATE_CATALOG_FILE) and print its models
` + cliUsage

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		c, err := config.Load("migrate", rest, getenv, stderr)
		if err != nil {
			return err
		}
		st, err := app.OpenStore(ctx, c, newLogger(c, stderr)) // opening migrates
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "database is up to date:", c.DatabaseURL)
		return st.Close()
	case "submit", "status", "ls", "cancel", "download", "models": // client commands (cli.go)
		return runCLI(ctx, cmd, rest, getenv, stdout, stderr)
	case "keys": // stored API keys, straight in the database (keys.go)
		return keysCmd(ctx, rest, getenv, stdout, stderr)
	case "fake-ark":
		return fakeArk(ctx, rest, stdout, stderr)
	case "catalog": // the model catalog file (catalog.go)
		return catalogCmd(rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "seedgate", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := config.Load("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(c, stderr)
	opts := []app.Option{app.WithVersion(buildVersion())}
	if c.ListenFD > 0 { // a socket the parent bound (SEEDGATE_LISTEN_FD)
		ln, err := inheritedListener(c.ListenFD)
		if err != nil {
			return fmt.Errorf("SEEDGATE_LISTEN_FD: %w", err)
		}
		opts = append(opts, app.WithListener(ln))
	}
	a, err := app.Start(ctx, c, log, opts...)
	if err != nil {
		return err
	}
	err = a.Wait(ctx)
	log.Info("shutting down", "timeout", c.ShutdownTimeout)
	return errors.Join(err, a.Shutdown(c.ShutdownTimeout))
}

// inheritedListener is the listening socket a parent process handed down as
// descriptor fd.
func inheritedListener(fd int) (net.Listener, error) {
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close() // the listener holds a duplicate
	return net.FileListener(f)
}

func newLogger(c *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}
