// Package jpeg is a JPEG decoder that decodes at full size or straight to 1/2, 1/4 or 1/8 of
// it, written for relcat's ingest, which never needs more than a 1024-pixel work image.
//
// # What it decodes
//
//   - Baseline and extended sequential (SOF0, SOF1) and progressive (SOF2) Huffman-coded
//     files with 8-bit samples, restart markers included (a restart marker that is not the
//     expected one is an error; data before the expected one is skipped).
//   - 1 component (grey, any sampling factors: one block per MCU), 3 components (YCbCr with
//     4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1 or 4:1:0 sampling, both chroma components alike; RGB
//     when the Adobe marker says transform 0 or, without JFIF, the component ids are 'R' 'G'
//     'B'), 4 components (CMYK, or YCCK with Adobe transform 2, inverted as Adobe writes them).
//   - Refused with [ErrUnsupported]: 12- and 16-bit samples, arithmetic coding, lossless and
//     hierarchical processes, DNL, 2 components, other sampling combinations. The caller may
//     fall back to another decoder.
//
// # Scaled decoding
//
// [Options].Scale 2, 4 or 8 runs a reduced inverse DCT per 8x8 block (4x4, 2x2 or 1x1
// outputs), so a reduced decode never allocates or computes the full-size image. Every
// output sample is the exact mean of the Scale x Scale full-size samples it replaces, before
// rounding and clamping: the mean of the inverse DCT over a window is the coefficients times
// the window-averaged cosine basis (see idct.go). At 1/8 it is the DC term alone. Planes are
// returned as they are stored (an *image.YCbCr keeps its chroma subsampled), which is what
// relcat's area-average downscale reads without converting to RGB.
//
// # Progressive files
//
// A progressive file's coefficients are kept until the last scan, per block: the DC term, a
// mask of the non-zero coefficients (refinement scans and the final inverse DCTs visit only
// those; the next zero of a run is found by a broadword select, and correction bits are
// applied without branching on them), and only the AC coefficients the inverse DCT at the
// decode's size reads (63 at full size, 48 at 1/2, 24 at 1/4, none at 1/8; the others share
// one slot that is written but never read). A 12 MP photo decoded at 1/4 keeps 60 bytes a
// block instead of 136. [Options].Buffers lends a series of decodes the same coefficient
// buffers; only the masks and DC terms are cleared, and only slots a decode has written are
// read, so a reused buffer gives exactly the samples of a fresh one
// (TestCompactLayoutAndReusedBuffers checks both against a decode keeping every coefficient).
//
// # Hostile input
//
// The frame header is checked against [Options].MaxMemory before anything is allocated
// ([Config.Memory] gives the figure). Work is bounded: every block costs at least one bit of
// entropy-coded data (reading past the end of a segment is an error, not zero padding),
// except in progressive files, whose scans are capped at 1000. The context is checked every
// MCU row. Panics are recovered and returned as errors.
//
// # How it was verified
//
// decode_test.go and fuzz_test.go: at scale 1 every sample is within one level of
// image/jpeg's decode (plane by plane; most samples are identical — the inverse DCTs differ
// in rounding), on generated files of every sampling in baseline and progressive mode
// (testdata, made by libjpeg-turbo's cjpeg), on image/jpeg-encoded files and on the corpus
// (RELCAT_CORPUS); the one YCCK corpus file differs by up to 3 after the YCCK to CMYK
// conversion amplifies a one-level difference. Scales 1/2 to 1/8 are within 40 dB PSNR of
// the area average of image/jpeg's full decode (measured 50-60 dB) and within 50 dB of
// libjpeg-turbo's `djpeg -scale 1/N` luma (measured 60 dB and up). Every corrupt corpus
// file gets image/jpeg's verdict, and FuzzDecode compares verdicts on mutated files. The
// one known difference: image/jpeg rejects valid progressive files with restart markers
// and subsampled luma (it counts restart intervals wrongly there); this decoder decodes
// them as libjpeg-turbo does.
//
// # Speed
//
// CPU per decode (BenchmarkDecode, 2-core machine, load average 2.5-3.4): a generated q90 4:2:0
// 4000x3000 photo, image/jpeg 139.6 ms, this decoder 76.2 ms at full size, 46.1 at 1/2, 35.8 at
// 1/4; 1600x1200, 24.5 against 13.5. cjpeg's progressive versions of the 12 MP photo at 1/4: 83.3
// (4:2:0) and 98.4 ms (4:2:2); on bench/ingest-vs-peers.sh's progressive photos at 1/4, 134-166
// ms before the refinement, layout and buffer work above and 78-98 after.
// Ingest decodes every JPEG of 1024 px or more at the largest reduction keeping 512 px a side (a
// 12 MP photo at 1/4, a 1600 px one at 1/2), makes its 1024 px work image from that decode
// (catalog/media ShrinkReduced) and hashes the reference PDQ from it too (catalog/pdq
// FromReduced); `relcat hash` and `ingest --exact-pdq` decode at full size.
//
// The package imports no other relcat package.
package jpeg
