//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// peerResult is the line of JSON the peers binary (cmd/obsbench/peers, its
// own module) prints after one upload.
type peerResult struct {
	Settings  string `json:"settings"`
	WallNs    int64  `json:"wall_ns"`
	CPUNs     int64  `json:"cpu_ns"`
	ReadBytes int64  `json:"read_bytes"`
}

// peerMethod uploads with another uploader (tool "aws": aws-sdk-go-v2's
// feature/s3/manager; "minio": minio-go v7) run by the peers binary as a
// subprocess against tg, SigV4 over path-style addressing. Its sample is the
// upload as the binary timed it, or with whole set the whole process (start
// to exit, as a user running the tool would see it).
func peerMethod(bin string, tg *target, tool string, whole bool) method {
	name := map[string]string{mAWS: "aws-sdk-go-v2 feature/s3/manager Uploader", mMinio: "minio-go v7 FPutObject"}[tool]
	if whole {
		name += ", whole process"
	}
	return method{key: tool, name: name, run: func(ctx context.Context, path, key string, _, ps int64, conc int) (sample, error) {
		args := []string{"-tool", tool, "-endpoint", tg.endpoint, "-region", tg.region, "-bucket", bucket, "-key", key,
			"-file", path, "-part-size", strconv.FormatInt(ps, 10), "-concurrency", strconv.Itoa(conc)}
		if tool == mMinio && tg.minioUnsigned {
			args = append(args, "-unsigned-payload")
		}
		if tool == mAWS && tg.awsWhenRequired {
			args = append(args, "-checksum-when-required")
		}
		if tg.caFile != "" {
			args = append(args, "-ca-file", tg.caFile)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "PEERS_ACCESS_KEY="+accessKey, "PEERS_SECRET_KEY="+secretKey)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		t0 := time.Now()
		err := cmd.Run()
		procWall := time.Since(t0)
		if err != nil {
			return sample{}, fmt.Errorf("%s: %w: %s", bin, err, errb.String())
		}
		var r peerResult
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			return sample{}, fmt.Errorf("%s printed %q: %w", bin, out.String(), err)
		}
		s := sample{wall: time.Duration(r.WallNs), clientCPU: time.Duration(r.CPUNs), clientRead: r.ReadBytes, settings: r.Settings}
		if whole {
			s.wall = procWall
			s.clientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			s.clientRead = -1
		}
		return s, nil
	}}
}

// createBucket creates the benchmark bucket on tg with the peers binary.
func createBucket(bin string, tg *target) error {
	cmd := exec.Command(bin, "-tool", mAWS, "-endpoint", tg.endpoint, "-region", tg.region, "-create-bucket", bucket)
	cmd.Env = append(os.Environ(), "PEERS_ACCESS_KEY="+accessKey, "PEERS_SECRET_KEY="+secretKey)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("creating bucket %s on %s: %w: %s", bucket, tg.name, err, out)
	}
	return nil
}
