package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/seedgate/seedgate/internal/task"
)

const catalogUsage = `Usage:
  seedgate catalog check FILE   validate a model catalog file (SEEDGATE_CATALOG_FILE) merged over the
                                built-in catalog, and print the models the gateway would load
  seedgate catalog show         print the built-in catalog's models
`

// catalogCmd is `seedgate catalog …`: it reads files only, no database.
func catalogCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, catalogUsage)
		return errors.New("missing catalog command")
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			fmt.Fprint(stderr, catalogUsage)
			return errors.New("catalog check takes one file")
		}
		cat, err := task.LoadCatalogFile(args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is valid: %d models loaded (%s)\n", args[1], len(cat.Models()), cat.Source)
		printCatalog(stdout, cat)
		return nil
	case "show":
		cat := task.Current()
		fmt.Fprintf(stdout, "%d models (%s, version %d)\n", len(cat.Models()), cat.Source, cat.Version)
		printCatalog(stdout, cat)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, catalogUsage)
		return nil
	}
	fmt.Fprint(stderr, catalogUsage)
	return fmt.Errorf("unknown catalog command %q", args[0])
}

// printCatalog writes one line per model: what a request can ask of it.
func printCatalog(w io.Writer, cat *task.Catalog) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tSOURCE\tVOLCENGINE\tBYTEPLUS\tSECONDS\tRESOLUTIONS\tMODES\tREFERENCES\tFORMATS")
	for _, m := range cat.Models() {
		secs := fmt.Sprintf("%d-%d", m.Durations.Min, m.Durations.Max)
		if m.Durations.Auto {
			secs += ",-1"
		}
		modes := make([]string, 0, len(m.Modes()))
		for _, md := range m.Modes() {
			modes = append(modes, string(md))
		}
		in := m.Inputs
		refs := fmt.Sprintf("%d/%d/%d", in.MaxReferenceImages, in.MaxReferenceVideos, in.MaxReferenceAudio)
		if in.MaxReferenceTotal > 0 {
			refs += fmt.Sprintf(" (%d)", in.MaxReferenceTotal)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Source, orDash(m.VolcengineID), orDash(m.BytePlusID),
			secs, strings.Join(m.Resolutions, ","), strings.Join(modes, ","), refs, strings.Join(m.OutputFormats, ","))
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
