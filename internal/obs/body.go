package obs

import (
	"errors"
	"fmt"
	"io"
)

// ErrShortBody reports that a request body ended before the size it was
// announced with: its source (a file) shrank while it was being sent.
// Sending it again cannot succeed, so it is never retried.
var ErrShortBody = errors.New("request body ended before its announced size")

// exactReaderAt reads r, reporting ErrShortBody instead of io.EOF when r
// ends before end.
type exactReaderAt struct {
	r   io.ReaderAt
	end int64
}

func (e exactReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(p, off)
	if errors.Is(err, io.EOF) && off+int64(n) < e.end {
		return n, fmt.Errorf("%w: it ended after %d of %d bytes", ErrShortBody, off+int64(n), e.end)
	}
	return n, err
}

// bodySection is size bytes of r from off, as a request body.
func bodySection(r io.ReaderAt, off, size int64) *io.SectionReader {
	return io.NewSectionReader(exactReaderAt{r: r, end: off + size}, off, size)
}
