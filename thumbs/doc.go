// Package thumbs makes, encodes and names the catalog's thumbnails.
//
// A thumbnail is made from the small work image that media.Shrink produced
// (never from full resolution): it is resized to fit MaxSide x MaxSide with
// a Lanczos filter, then turned upright by the EXIF orientation, and stored
// as a JPEG under a content-addressed path ([RelPath]). [Version] names the
// recipe; bump it when the output would change so old thumbnails can be
// found and rebuilt.
//
// The package imports no other relcat package.
package thumbs
