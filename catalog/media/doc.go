// Package media identifies image files by their content and decodes them
// under hard limits.
//
// Files handled by relcat come from adversaries, so this package:
//
//   - decides the format from magic bytes only ([Sniff]), never from the
//     file name; HEIC, HEIF and AVIF are told apart by the ISO-BMFF 'ftyp'
//     brand;
//   - reads the header first ([DecodeConfig]) and refuses pixel counts and
//     implied buffers over a limit before any pixel is decoded ([Decode]);
//   - turns decoder panics into [ErrDecode] errors;
//   - dispatches on the sniffed format to the specific decoder (image/jpeg,
//     image/png, image/gif, golang.org/x/image/{webp,tiff,bmp}), so a PNG
//     named .jpg is decoded as PNG.
//
// [DecodeScaled] decodes JPEG with the package's own decoder, catalog/media/jpeg
// (a leaf of its own), at full size or straight to 1/2, 1/4 or 1/8 of it by
// reduced inverse DCTs whose every pixel is the mean of those it replaces;
// [Scale] picks the largest reduction that keeps a given side and
// [DecodeMemoryScaled] what it allocates. A JPEG that decoder does not
// support (12-bit, arithmetic coding) falls back to image/jpeg.
//
// [Shrink] makes the one small work image that feeds the perceptual hashes:
// a single area-average (box) downscale with exact fractional area weights,
// with fast paths that never convert full resolution YCbCr pixels to RGB.
// [ShrinkReduced] makes the same image from a reduced decode, at the size a
// full decode would give (so it may enlarge the decoded image): each
// output pixel the mean of the full-size area it covers, every reduced
// pixel read as constant over the pixels it replaces
// (TestShrinkReducedIsShrinkOfTheBlocks: exactly Shrink of such an image);
// [ShrinkReducedInto] reuses a buffer for it. relcat's ingest decodes a
// 1600 px JPEG at 1/2 and a 12 MP one at 1/4 and makes its 1024 px work
// image (and its thumbnail) this way.
//
// The package imports no other relcat package but its own decoder,
// catalog/media/jpeg, which imports none.
package media
