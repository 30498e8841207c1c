package media

import (
	"bytes"
	"context"
	"io"
)

// readChunk is the most a decoder gets per Read: the context is checked at least once per
// readChunk bytes of input, and the work per byte is bounded (ProgressiveWork, TIFF strip
// checks), so cancelling stops a decode within a few milliseconds.
const readChunk = 512

// ctxReader reads data, failing with the context's error once it is done.
type ctxReader struct {
	ctx context.Context
	r   *bytes.Reader
}

func newCtxReader(ctx context.Context, data []byte) *ctxReader {
	return &ctxReader{ctx: ctx, r: bytes.NewReader(data)}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > readChunk {
		p = p[:readChunk]
	}
	return c.r.Read(p)
}

// ReadAt lets x/image/tiff read strips in place instead of copying the whole file.
func (c *ctxReader) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}

var _ io.ReaderAt = (*ctxReader)(nil)
