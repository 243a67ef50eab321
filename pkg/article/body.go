package article

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// MaxBodyBytes is the largest decompressed body Text will return (a gzip bomb guard).
const MaxBodyBytes = 32 << 20

// CompressBody moves Body into BodyGzip when it is larger than threshold bytes, so raw
// messages stay under the broker's payload limit (HTML compresses 5–10×). Messages still
// too large after compression are rejected by the bus with bus.ErrTooLarge and dead-lettered.
func (r *Raw) CompressBody(threshold int) error {
	if len(r.Body) <= threshold || r.BodyGzip != nil {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := io.WriteString(zw, r.Body); err != nil {
		return fmt.Errorf("article: compress body: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("article: compress body: %w", err)
	}
	r.BodyGzip = buf.Bytes()
	r.Body = ""
	return nil
}

// Text returns the body, decompressing BodyGzip when set (capped at MaxBodyBytes).
func (r *Raw) Text() (string, error) {
	if r.BodyGzip == nil {
		return r.Body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.BodyGzip))
	if err != nil {
		return "", fmt.Errorf("%w: body_gzip: %v", ErrMalformed, err)
	}
	defer zr.Close()
	b, err := io.ReadAll(io.LimitReader(zr, MaxBodyBytes+1))
	if err != nil {
		return "", fmt.Errorf("%w: body_gzip: %v", ErrMalformed, err)
	}
	if len(b) > MaxBodyBytes {
		return "", fmt.Errorf("%w: body larger than %d bytes", ErrMalformed, MaxBodyBytes)
	}
	return string(b), nil
}
