package sandbox

import "os"

// Fonts from Debian packages, in order of preference. The CJK ones also cover
// Latin, so the prompt is drawn with one when present (Chinese prompts then
// render as text, not boxes).
var (
	latinFontPaths = []string{
		"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",                 // fonts-dejavu-core
		"/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", // fonts-liberation
		"/usr/share/fonts/truetype/freefont/FreeSans.ttf",                 // fonts-freefont-ttf
	}
	cjkFontPaths = []string{
		"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",              // fonts-wqy-zenhei
		"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",    // fonts-noto-cjk
		"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",            // fonts-wqy-microhei
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", // fonts-droid-fallback
		"/usr/share/fonts/truetype/arphic/uming.ttc",                // fonts-arphic-uming
	}
)

// fonts are the font files a render uses; "" lets drawtext ask fontconfig
// for its default font.
type fonts struct {
	prompt    string
	watermark string
	// watermarkText is "AI生成" with a CJK font, "AI Generated" without.
	watermarkText string
}

func findFonts(latin, cjk string) fonts {
	if latin == "" {
		latin = firstExisting(latinFontPaths)
	}
	if cjk == "" {
		cjk = firstExisting(cjkFontPaths)
	}
	if cjk != "" {
		return fonts{prompt: cjk, watermark: cjk, watermarkText: "AI生成"}
	}
	return fonts{prompt: latin, watermark: latin, watermarkText: "AI Generated"}
}

func firstExisting(paths []string) string {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}
