package main

import "context"

type coldStartResult struct{}
type growthResult struct{}

func (b *bench) coldStart(ctx context.Context) error { return nil }
func (b *bench) growth(ctx context.Context) error    { return nil }
