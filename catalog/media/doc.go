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
// [Shrink] makes the one small work image that feeds both the perceptual
// hash and the thumbnail: a single area-average (box) downscale with exact
// fractional area weights, with fast paths that never convert full
// resolution YCbCr pixels to RGB.
//
// The package imports no other relcat package but its own decoder,
// catalog/media/jpeg, which imports none.
package media
