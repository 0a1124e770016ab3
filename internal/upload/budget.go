package upload

import "context"

// Budget bounds the parts in flight across every upload that shares it (the
// provider's max_concurrent_parts). A nil *Budget is unlimited.
type Budget struct {
	sem chan struct{}
}

// NewBudget returns a budget of n concurrent parts; n ≤ 0 returns nil
// (unlimited).
func NewBudget(n int) *Budget {
	if n <= 0 {
		return nil
	}
	return &Budget{sem: make(chan struct{}, n)}
}

// Cap returns the number of concurrent parts (0 for a nil, unlimited budget).
func (b *Budget) Cap() int {
	if b == nil {
		return 0
	}
	return cap(b.sem)
}

func (b *Budget) acquire(ctx context.Context) error {
	if b == nil {
		return ctx.Err()
	}
	select {
	case b.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Budget) release() {
	if b != nil {
		<-b.sem
	}
}
