package task

import (
	"strings"
	"testing"
)

// FuzzParseInline: ParseInline never panics, leaves no recognised flag in the
// text, is idempotent on its own output, and ApplyInline + Normalize never turn a
// valid request invalid.
func FuzzParseInline(f *testing.F) {
	for _, s := range []string{
		kittenPrompt,
		foxPrompt,
		"图片中的女士,开着跑车冲出展台,撞碎展厅玻璃。",
		"360度拍摄",
		"a --rs=720p --seed=-1 --frames 121 --fps 24",
		"--dur",
		"a --rs --rt --cf --wm",
		"x\n--RS 1080P\ty --unknown 3",
		"\xff--rs\xfe 720p --seed 99999999999999999999999",
		"a\u00a0--dur\u00855\u2028b",
	} {
		f.Add(s)
	}
	models := Models()
	f.Fuzz(func(t *testing.T, text string) {
		clean, p := ParseInline(text)
		for _, tok := range strings.Fields(clean) {
			if _, _, _, ok := inlineFlag(tok); ok {
				t.Fatalf("clean text %q still holds the parameter %q (input %q)", clean, tok, text)
			}
		}
		if again, p2 := ParseInline(clean); again != clean || p2 != (InlineParams{}) {
			t.Fatalf("not idempotent: %q -> %q, %+v", clean, again, p2)
		}
		if strings.TrimSpace(clean) != clean {
			t.Fatalf("clean text %q is not trimmed", clean)
		}
		for _, m := range models {
			r := Request{Prompt: "p", FirstFrame: "https://example.com/f.png"}
			if !m.Inputs.FirstFrame {
				r.FirstFrame = ""
			}
			m.ApplyInline(&r, p)
			if err := m.Normalize(&r); err != nil {
				t.Fatalf("%s: inline params %+v made the request invalid: %v", m.ID, p, err)
			}
		}
	})
}
