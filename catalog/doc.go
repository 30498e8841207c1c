// Package catalog is relcat's library: the domain (affiliates, batches, images, sightings, matches),
// the store (one bbolt file plus content-addressed originals and thumbnails) and the operations on it:
// Ingest, Lookup, Dupes, History, Timeline, Search, Verify, Compact, the log.
//
// Every bbolt transaction lives in this package; bbolt never appears in an exported signature. The
// on-disk format is in keys.go with its schema version, checked at Open.
//
// Ingest follows bbolt's contract: CPU work (hashing, EXIF, one bounded decode, one downscale feeding
// the perceptual hash and the thumbnail, and the near-duplicate searches of each new image: presearch
// in edges.go) runs in parallel workers outside any transaction; one writer goroutine commits chunks
// of files, each chunk one transaction with one log entry, adding to the searches' results the images
// that arrived after them. A cancelled ingest leaves every committed chunk, and re-running it
// completes the batch.
//
// Near-duplicate search uses a multi-index (package hindex) over every stored PDQ hash and one over
// the region hashes, persisted beside catalog.db (near.idx, regions.idx: nearfile.go, regionfile.go)
// and mapped in place by the next process (in huge pages: hugewrite.go), rebuilt when stale, kept
// current by the writer; the pairs
// within the default threshold are stored as edges at ingest (edges.go), so most questions read them.
//
// Long reads stream in chunks of read transactions and let go of the pages they mapped (mapped.go);
// Compact (compact.go) rewrites catalog.db without the free pages it gathers.
//
// Two rules are computed in one place, origin.go, and every operation asks it: PairDistance (the
// distance of a pair of photos, symmetric) and OriginOf (who published a photo first: the earliest
// sighting over its family, exact and near, with the same-day "uncertain" flag); Catalog.Family
// gathers the family.
package catalog
