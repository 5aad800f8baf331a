// Drives the gateway's openrouter dialect with the official SDK, as a client
// of OpenRouter would: SEEDGATE_URL is the gateway, SEEDGATE_KEY its key.
// Prints one JSON line of what it saw; the Go test checks it.
import { OpenRouter } from "@openrouter/sdk";
import * as errors from "@openrouter/sdk/models/errors";
import { writeFile } from "node:fs/promises";

const client = new OpenRouter({ apiKey: process.env.SEEDGATE_KEY, serverURL: process.env.SEEDGATE_URL + "/api/v1" });
const out = {};

const models = await client.videoGeneration.listVideosModels();
out.models = models.data.map((m) => m.id);
const seedance = models.data.find((m) => m.id === "bytedance/seedance-2.0");
out.durations = seedance.supportedDurations;
out.resolutions = seedance.supportedResolutions;
out.frameImages = seedance.supportedFrameImages;
out.skus = Object.keys(seedance.pricingSkus ?? {});

const job = await client.videoGeneration.generate({
  videoGenerationRequest: {
    model: "bytedance/seedance-1-5-pro", prompt: "a kite over the sea", duration: 4, resolution: "480p",
    aspectRatio: "16:9", seed: 7, generateAudio: false,
  },
});
out.created = { id: job.id, status: job.status, pollingUrl: job.pollingUrl };

let got = job;
const deadline = Date.now() + 90_000;
while (!["completed", "failed", "cancelled", "expired"].includes(got.status)) {
  if (Date.now() > deadline) throw new Error("job still " + got.status);
  await new Promise((r) => setTimeout(r, 50));
  got = await client.videoGeneration.getGeneration({ jobId: job.id });
}
out.done = { status: got.status, unsignedUrls: got.unsignedUrls, usage: got.usage, error: got.error };

const stream = await client.videoGeneration.getVideoContent({ jobId: job.id, index: 0 });
const chunks = [];
for await (const c of stream) chunks.push(c);
const mp4 = Buffer.concat(chunks.map((c) => Buffer.from(c)));
await writeFile(process.env.SEEDGATE_OUT, mp4);
out.contentBytes = mp4.length;

try {
  await client.videoGeneration.generate({ videoGenerationRequest: { model: "bytedance/seedance-2.0", prompt: "x", duration: 99 } });
  out.badRequest = "accepted";
} catch (e) {
  out.badRequest = { name: e.name, isBadRequest: e instanceof errors.BadRequestResponseError, status: e.statusCode ?? e.httpMeta?.response?.status,
    message: e.message, metadata: e.error?.metadata };
}
try {
  await client.videoGeneration.getGeneration({ jobId: "cgt-20260101000000-aaaaaaaaaa" });
  out.notFound = "found";
} catch (e) {
  out.notFound = { name: e.name, isNotFound: e instanceof errors.NotFoundResponseError };
}
console.log(JSON.stringify(out));
