// Package catalog is relcat's library: the domain (affiliates, batches, images, sightings, matches),
// the store (one bbolt file plus content-addressed originals and thumbnails) and the operations on it:
// Ingest, Lookup, Dupes, History, Verify, the log.
//
// Every bbolt transaction lives in this package; bbolt never appears in an exported signature. The
// on-disk format is in keys.go with its schema version, checked at Open.
//
// Ingest follows bbolt's contract: CPU work (hashing, EXIF, one bounded decode, one downscale feeding
// the perceptual hash and the thumbnail) runs in parallel workers outside any transaction; one writer
// goroutine commits chunks of files, each chunk one transaction with one log entry. A cancelled ingest
// leaves every committed chunk, and re-running it completes the batch.
//
// Near-duplicate search uses an in-memory multi-index (package hindex) over every stored PDQ hash,
// built on first use from the pdq bucket and kept current by the writer.
//
// Two rules are computed in one place, origin.go, and every operation asks it: PairDistance (the
// distance of a pair of photos, symmetric) and OriginOf (who published a photo first: the earliest
// sighting over its family, exact and near, with the same-day "uncertain" flag); Catalog.Family
// gathers the family.
package catalog
