package openrouter

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/seedgate/seedgate/internal/budget"
	orp "github.com/seedgate/seedgate/internal/protocol/openrouter"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Render is the task as an OpenRouter video job; base is the gateway's
// public URL, prices its price table (nil: no cost is shown).
func Render(t *task.Task, base string, prices *budget.Prices) orp.Video {
	v := orp.Video{ID: t.ID, PollingURL: base + orp.BasePath + orp.VideoPath(t.ID), Status: orp.Status(t.Status)}
	switch t.Status {
	case task.StatusSucceeded:
		if t.Result != nil && t.Result.VideoFileID != "" {
			v.UnsignedURLs = []string{base + orp.BasePath + orp.ContentPath(t.ID, 0)}
		}
		v.Usage = &orp.Usage{Cost: cost(t, prices)}
	case task.StatusFailed, task.StatusExpired, task.StatusCancelled:
		switch {
		case t.Error != nil:
			v.Error = t.Error.Message
		case t.Status == task.StatusCancelled:
			v.Error = "the job was cancelled"
		default:
			v.Error = "the job expired before it finished"
		}
	}
	return v
}

// cost is what a completed task cost in USD, when the gateway prices tasks
// in USD (nil otherwise: the SDK's cost is nullable).
func cost(t *task.Task, prices *budget.Prices) *float64 {
	if prices == nil || prices.Currency != "USD" || t.Usage == nil {
		return nil
	}
	rate, err := prices.Rate(t)
	if err != nil {
		return nil
	}
	// rate is micro-USD per million tokens.
	c := float64(t.Usage.TotalTokens) * float64(rate) / 1e12
	return &c
}

// Renderer returns the body of this dialect's callbacks: the job, once it
// is finished (OpenRouter notifies "when the video generation job completes").
func Renderer(base string, prices *budget.Prices) func(*task.Task) any {
	base = strings.TrimRight(base, "/")
	return func(t *task.Task) any {
		if !t.Status.Terminal() {
			return nil
		}
		return Render(t, base, prices)
	}
}

// openRouterPrefix is the vendor part of OpenRouter's model ids.
const openRouterPrefix = "bytedance/"

// ModelID is the id the models list shows for m: its OpenRouter id when the
// catalog has one, else the catalog's own.
func ModelID(m *task.Model) string {
	for _, a := range m.Aliases {
		if strings.HasPrefix(a, openRouterPrefix) {
			return a
		}
	}
	return m.ID
}

// Models is GET /api/v1/videos/models: the catalog, with what each model
// takes and its prices.
func (h *Handler) Models(w http.ResponseWriter, r *http.Request) {
	out := orp.ModelList{Data: []orp.Model{}}
	for _, m := range task.Models() {
		out.Data = append(out.Data, RenderModel(m, h.Prices))
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// RenderModel describes m as a VideoModel.
func RenderModel(m *task.Model, prices *budget.Prices) orp.Model {
	seed := true
	audio := m.Features.Audio
	out := orp.Model{
		ID: ModelID(m), CanonicalSlug: m.ID, Name: m.Name,
		Description:                  "ByteDance " + m.Name + ", served by seedgate",
		AllowedPassthroughParameters: []string{},
		GenerateAudio:                &audio, Seed: &seed,
		SupportedAspectRatios: append([]string{}, task.FixedRatios...),
		SupportedFrameImages:  []string{},
		PricingSKUs:           pricingSKUs(m, prices),
	}
	for d := m.Durations.Min; d <= m.Durations.Max; d++ {
		out.SupportedDurations = append(out.SupportedDurations, d)
	}
	if m.Inputs.FirstFrame {
		out.SupportedFrameImages = append(out.SupportedFrameImages, orp.FrameFirst)
	}
	if m.Inputs.FirstLast {
		out.SupportedFrameImages = append(out.SupportedFrameImages, orp.FrameLast)
	}
	for _, res := range m.Resolutions {
		out.SupportedResolutions = append(out.SupportedResolutions, wireRes(res))
		for _, ratio := range task.FixedRatios {
			if w, h, ok := task.PixelSize(m.Family, res, ratio); ok {
				out.SupportedSizes = append(out.SupportedSizes, strconv.Itoa(w)+"x"+strconv.Itoa(h))
			}
		}
	}
	return out
}

func wireRes(res string) string {
	if res == task.Res4K {
		return "4K"
	}
	return res
}

// pricingSKUs are the model's prices per second of 16:9 video at each
// resolution: "<res>_tokens_per_second" from the catalog's usage, and, with a
// price table, "<res>_per_second" (and "…_with_audio") in its currency.
func pricingSKUs(m *task.Model, prices *budget.Prices) map[string]string {
	skus := map[string]string{}
	for _, res := range m.Resolutions {
		perSecond := func(audio bool) (tokens float64, r task.Request) {
			r = task.Request{Resolution: res, Ratio: "16:9", Duration: task.Int(m.Durations.Max), GenerateAudio: task.Bool(audio)}
			return float64(m.EstimateTokens(&r, 0, 0)) / float64(m.Durations.Max), r
		}
		tokens, _ := perSecond(false)
		if tokens <= 0 {
			continue
		}
		skus[res+"_tokens_per_second"] = strconv.FormatFloat(tokens, 'f', 0, 64)
		if prices == nil {
			continue
		}
		for _, audio := range []bool{false, true} {
			if audio && !m.Features.Audio {
				continue
			}
			tokens, r := perSecond(audio)
			rate, err := prices.Rate(&task.Task{Model: m.ID, Request: r})
			if err != nil {
				continue
			}
			key := res + "_per_second"
			if audio {
				key += "_with_audio"
			}
			skus[key] = strconv.FormatFloat(tokens*float64(rate)/1e12, 'f', 6, 64)
		}
	}
	return skus
}
