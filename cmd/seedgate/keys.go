package main

// seedgate keys: create, list and revoke stored API keys straight in the
// database (the admin API does the same over HTTP), e.g. to make the first
// admin key of a gateway.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seedgate/seedgate/internal/admin"
	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/store"
)

const keysUsage = `Usage:
  seedgate keys create [--name N] [--tenant T] [--scopes read,submit] [--expires-in 720h] [--rpm N] [--max-in-flight N]
  seedgate keys list [--tenant T]
  seedgate keys revoke KEY_ID
Every command takes --data-dir or --database-url (SEEDGATE_DATA_DIR, SEEDGATE_DATABASE_URL) and --json.
The key is printed once, by create: only its hash is stored.
`

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errors.New("missing keys command: create, list or revoke")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, keysUsage, "\nFlags:\n"); fs.PrintDefaults() }
	dataDir := fs.String("data-dir", "", "data directory (SEEDGATE_DATA_DIR)")
	dbURL := fs.String("database-url", "", "database (SEEDGATE_DATABASE_URL)")
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "create: a name for people")
	tenant := fs.String("tenant", "", `the key's tenant (create), or the tenant to list; "default" is the default tenant`)
	scopes := fs.String("scopes", "read,submit", "create: comma-separated scopes: read, submit, admin (its own tenant), global_admin (every tenant)")
	expiresIn := fs.Duration("expires-in", 0, "create: the key expires after this long (0: never)")
	rpm := fs.Int("rpm", -1, "create: requests per minute (0: unlimited; default: the tenant's)")
	inFlight := fs.Int("max-in-flight", -1, "create: queued + running tasks (0: unlimited; default: the tenant's)")
	positionals, known := map[string]int{"create": 0, "list": 0, "revoke": 1}[sub]
	if !known {
		fmt.Fprint(stderr, keysUsage)
		return fmt.Errorf("unknown keys command %q", sub)
	}
	pos, err := parse(fs, args, positionals)
	if err != nil {
		return err
	}

	var cargs []string
	if *dataDir != "" {
		cargs = append(cargs, "--data-dir", *dataDir)
	}
	if *dbURL != "" {
		cargs = append(cargs, "--database-url", *dbURL)
	}
	c, err := config.Load("keys", cargs, getenv, stderr)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, c, newLogger(c, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	as := st
	now := time.Now().UTC()
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	audit := func(action, target string, detail any) error {
		d, _ := json.Marshal(detail)
		return as.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: actor, Action: action, Target: target, Detail: string(d)})
	}

	switch sub {
	case "create":
		in := admin.KeyInput{Name: *name, CreatedBy: actor}
		if in.Tenant, err = admin.TenantID(*tenant, "tenant"); err != nil {
			return err
		}
		if in.Scopes, err = auth.ParseScopes(strings.Split(*scopes, ",")); err != nil {
			return err
		}
		if *expiresIn < 0 {
			return errors.New("--expires-in must be positive")
		}
		if *expiresIn > 0 {
			t := now.Add(*expiresIn)
			in.ExpiresAt = &t
		}
		if *rpm >= 0 {
			in.Limits.RPM = rpm
		}
		if *inFlight >= 0 {
			in.Limits.MaxInFlight = inFlight
		}
		k, err := admin.CreateKey(ctx, as, in, now)
		if err != nil {
			return err
		}
		if err := audit("keys.create", k.ID, map[string]any{"name": in.Name, "tenant": admin.TenantName(in.Tenant), "scopes": k.Scopes}); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, map[string]any{"id": k.ID, "key": k.Key, "name": k.Name, "tenant": admin.TenantName(k.Tenant),
				"scopes": k.Scopes, "webhook_secret": k.WebhookSecret})
		}
		fmt.Fprintf(stdout, "%s\n\nid:      %s\ntenant:  %s\nscopes:  %s\n", k.Key, k.ID, admin.TenantName(k.Tenant), strings.Join(k.Scopes, ", "))
		if k.WebhookSecret != "" {
			fmt.Fprintf(stdout, "webhook: %s (signs the callbacks of this key's tasks)\n", k.WebhookSecret)
		}
		fmt.Fprintln(stdout, "\nThe key is shown only now: the gateway keeps only its hash.")
		return nil
	case "list":
		var f store.KeyFilter
		if *tenant != "" {
			id, err := admin.TenantID(*tenant, "tenant")
			if err != nil {
				return err
			}
			f.Tenant = &id
		}
		keys, err := as.ListAPIKeys(ctx, f)
		if err != nil {
			return err
		}
		if *asJSON {
			out := []map[string]any{}
			for _, k := range keys {
				out = append(out, map[string]any{"id": k.ID, "name": k.Name, "tenant": admin.TenantName(k.Tenant), "scopes": k.Scopes,
					"status": admin.KeyStatus(k, now), "created_at": k.CreatedAt, "expires_at": k.ExpiresAt, "revoked_at": k.RevokedAt,
					"last_used_at": k.LastUsedAt, "rpm": k.Limits.RPM, "max_in_flight": k.Limits.MaxInFlight})
			}
			return printJSON(stdout, out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTENANT\tSCOPES\tSTATUS\tCREATED\tLAST USED")
		for _, k := range keys {
			last := "never"
			if k.LastUsedAt != nil {
				last = k.LastUsedAt.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, admin.TenantName(k.Tenant), strings.Join(k.Scopes, ","),
				admin.KeyStatus(k, now), k.CreatedAt.Format(time.DateTime), last)
		}
		return tw.Flush()
	default: // revoke
		k, err := as.RevokeAPIKey(ctx, pos[0], now)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no API key %s", pos[0])
		}
		if err != nil {
			return err
		}
		if err := audit("keys.revoke", k.ID, map[string]any{}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (running gateways refuse it within SEEDGATE_KEY_CACHE_TTL)\n", k.ID)
		return nil
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
