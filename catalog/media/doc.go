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
// [Shrink] makes the one small work image that feeds both the perceptual
// hash and the thumbnail: a single area-average (box) downscale with exact
// fractional area weights, with fast paths that never convert full
// resolution YCbCr pixels to RGB.
//
// The package imports no other relcat package.
package media
