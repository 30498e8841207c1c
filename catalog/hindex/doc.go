// Package hindex is an exact near-duplicate index over 256-bit hashes such as
// PDQ, held in memory.
//
// It uses multi-index hashing: a hash is cut into 16 slots of 16 bits. By the
// pigeonhole principle, two hashes within Hamming distance r (r <= 63) agree
// to within floor(r/16) bits on at least one slot, so a search enumerates, for
// each slot, every 16-bit value within floor(r/16) bits of the query's slot
// (1, 17, 137 or 697 values), gathers the ids stored under those values and
// checks each candidate's full distance. Searches are exact: no false
// negatives and no false positives. A radius above 63 falls back to a linear
// scan and stays exact.
//
// Layout: the hashes live in one array indexed by id (so ids should be dense,
// as catalog sequence numbers are; 33 bytes per id slot). Each of the 16
// slots keeps a frozen bucket table: 65,537 offsets and, sorted by that
// slot's key, one 16-byte entry per id: the id and a 96-bit fragment of its
// hash, the keys of the 6 slots before this one (cyclically), none of this
// slot's bits.
//
// A query (at r = 31: 272 buckets, about 4,200 entries at 1M uniform
// hashes) first lists its buckets, then loads one entry per cache line of
// all of them in one tight loop, so that their cache and TLB misses overlap
// instead of arriving one bucket at a time (4x faster than scanning bucket
// after bucket), then compares each entry's fragment with the query's, in
// cache: the slot's distance plus the fragment's is a lower bound of the full
// distance, so an entry whose bound exceeds r is dropped without touching its
// hash. For random hashes the bound passes 2-4 entries in 10,000; an
// entry that an earlier slot will report (one of its 6 previous keys is
// within floor(r/16) bits of the query's) is also dropped there. Only the
// rest load the full hash, in batches whose loads overlap: about 1 per query
// at 1M uniform hashes, about 1,000 when hashes cluster (the skewed
// benchmark).
//
// Ids added after the last freeze wait in a pending list that Search scans
// linearly; Add freezes once the pending list outgrows 4096 + Len/32 entries,
// merging a few newcomers into the tables in place or rebuilding them by a
// counting sort (the 16 slots on GOMAXPROCS goroutines), so an interleaved
// Add/Search workload (ingest) stays fast. To load a catalog, AddBatch adds
// everything and freezes once, by the same rule (a catalog of a few thousand
// hashes is scanned, and never pays for the 4 MiB of tables); Compact forces
// a freeze. Re-adding an id replaces its hash.
//
// Measured at 1M ids (2-core shared VM at load 15-20, CPU time per op from
// getrusage; go test -run x -bench 'Search1M|Build1M' ./catalog/hindex/):
// a query at r = 31 takes 33-62 µs of CPU with the index against 2.0-3.5 ms
// for a linear scan over the same hashes in the same run (35-100x), cycling
// over 4,096 distinct queries so that each pays its cache misses; over
// clustered hashes (BenchmarkSearch1MSkewed) about 110 µs against 2.3-4.8
// ms. The index holds 313.5 bytes per id after AddBatch (299 MB of heap:
// 256 MB of entries plus 1/16 headroom for merges, 32 MB of hashes, 4 MB of
// offsets, 1 MB of states); AddBatch of 1M hashes takes 1.1-1.6 s of CPU
// (1.1-1.8 s wall on two cores), 1M single Adds 3.7-4.5 s of CPU.
//
// Concurrency: any number of Search and Hash calls may run at the same time;
// they only read. Add, AddBatch and Compact modify the index and must not run
// concurrently with each other or with Search, Hash or Len (use a
// sync.RWMutex in the caller if it mixes them).
package hindex
