// Package pdq computes Meta's PDQ perceptual image hash: a 256-bit hash with a quality score
// 0..100 and the eight hashes of the image's rotations and mirrors ("dihedral" hashes), all from
// one DCT. Two hashes match when their Hamming distance (Distance) is at most 31 and both
// qualities are at least 50.
//
// FromLuma is the exact reference algorithm (float32 arithmetic in the reference's order, so
// given the reference's pixels it gives the reference's hash bit for bit). FromImage hashes the
// stored pixels of an image.Image at full resolution; it does not apply EXIF orientation (rotated
// copies are found through the dihedral hashes, see Nearest). Hashes computed on a downscaled
// copy of an image are a different variant: name the variant with VariantName and store it with
// the hash.
//
// # Cost
//
// The reference blurs two full-size float32 buffers (96 MB for a 12 MP photo). FromImage and
// FromLuma compute the same bits row by row instead (stream.go): luminance is made four rows at a
// time, the first box passes run over those rows while the second keep only the 64 sampled columns,
// so memory is a few rows of the image width plus rows x 64 values (StreamMemory: about 2 MB at
// 12 MP). TestBlurMatchesReferenceWalk holds it to a literal transcription of the reference's
// passes and TestConformance to the reference's published hashes.
//
// FromReduced approximates the full-resolution hash from a copy of the image reduced by 2, 4 or
// 8 (each pixel the mean of the block it replaces, as a JPEG decoder's reduced inverse DCT gives),
// applying the reference's full-size blur weights summed over each block. It is not bit-exact;
// relcat uses it for large JPEGs it decodes at a reduction anyway (distances measured in
// catalog's TestReducedReferencePDQ).
//
// # From pixels to luminance
//
//   - Colour pixels become (0.299*R + 0.587*G) + 0.114*B in float32, with 8-bit R, G, B.
//   - *image.Gray takes the grey value directly. *image.Gray16 takes the high byte of each value.
//     A colour image whose every pixel has R == G == B is treated as grey too, as the reference
//     does for grey content (so the same picture stored as grey or as RGB hashes identically).
//   - *image.YCbCr (JPEG) pixels are converted with color.YCbCrToRGB, *image.CMYK with
//     color.CMYKToRGB.
//   - Alpha is dropped, as in the reference: the stored colour is used and transparency ignored.
//     *image.NRGBA and other non-premultiplied images use their stored R, G, B as they are;
//     premultiplied images (*image.RGBA and any other type) are first converted with
//     color.NRGBAModel, which un-premultiplies them (fully transparent pixels become black).
//     Note that Go's GIF decoder already turns the transparent palette entry into transparent
//     black, so transparent GIF areas hash as black.
//
// Images with fewer than 5 pixels on a side are unhashable (ErrTooSmall). Images up to 128 px on a
// side are not blurred, only point-sampled, and hash less stably.
//
// # Transforms
//
// Result.Dihedral[t] is the hash the image would have after transform t: Rot90 is a quarter turn
// counter-clockwise, Rot270 clockwise, FlipX turns it upside down, FlipY mirrors left-right,
// FlipPlus1 transposes and FlipMinus1 transverses. Physically transformed copies land a few bits
// from the predicted hash, because the blur windows and sampling grid are not exactly symmetric.
package pdq
