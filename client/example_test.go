package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/seedgate/seedgate/client"
)

// Submit a job with a local image as its first frame, follow its progress,
// and save the video. (Runs against a gateway at SEEDGATE_URL.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := client.New(client.WithBaseURL(os.Getenv("SEEDGATE_URL")), client.WithAPIKey(os.Getenv("SEEDGATE_KEY")))

	first, err := c.UploadPath(ctx, "first.png", "first_frame")
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.CreateJob(ctx, client.CreateJobRequest{
		Model: "seedance-1-5-pro",
		Input: client.Input{
			Prompt:        "the camera slowly pushes in",
			FirstFrameURL: first.URL,
			Resolution:    "720p",
			Duration:      client.Int(5),
			GenerateAudio: client.Bool(true),
		},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Field != "" {
		log.Fatalf("the gateway rejected %s: %s", apiErr.Field, apiErr.Message)
	} else if err != nil {
		log.Fatal(err)
	}
	job, err = c.Wait(ctx, job.ID, client.WaitOptions{Progress: func(j *client.Job) {
		fmt.Printf("%s %s %d%%\n", j.ID, j.Output.Status, j.Progress)
	}})
	if err != nil {
		log.Fatal(err)
	}
	if err := job.Err(); err != nil {
		log.Fatal(err)
	}
	if _, err := c.DownloadFile(ctx, job.VideoURL(), "video.mp4"); err != nil {
		log.Fatal(err)
	}
}

// Errors match sentinels with errors.Is.
func ExampleAPIError() {
	c := client.New(client.WithAPIKey("sk-…"))
	_, err := c.GetJob(context.Background(), "cgt-unknown")
	switch {
	case errors.Is(err, client.ErrNotFound):
		fmt.Println("no such job")
	case errors.Is(err, client.ErrUnauthorized):
		fmt.Println("check SEEDGATE_KEY")
	case errors.Is(err, client.ErrRateLimited):
		var e *client.APIError
		errors.As(err, &e)
		fmt.Println("retry in", e.RetryAfter)
	}
}
