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
// as catalog sequence numbers are; memory grows with the largest id, about 33
// bytes per id slot). Each of the 16 slots keeps a frozen bucket table: 65,537
// offsets and the ids sorted by that slot's key (4 bytes per id per slot).
// Ids added after the last freeze wait in a pending list that Search scans
// linearly; Add freezes once the pending list outgrows 4096 + Len/32 entries,
// merging a few newcomers into the tables in place or rebuilding them by a
// counting sort, so an interleaved Add/Search workload (ingest) stays fast.
// To load a catalog, AddBatch adds everything and freezes once; Compact
// forces a freeze.
//
// At 1M uniform hashes the index holds about 100 MB (32 MB of hashes, 64 MB
// of bucket ids, 4 MB of offsets) and a query at r=31 visits about 4,200
// candidates instead of 1,000,000. Re-adding an id replaces its hash.
//
// Concurrency: any number of Search and Hash calls may run at the same time;
// they only read. Add, AddBatch and Compact modify the index and must not run
// concurrently with each other or with Search, Hash or Len (use a
// sync.RWMutex in the caller if it mixes them).
package hindex
