// Package web renders relcat's catalog as HTML: a self-contained report file (Report) and a
// read-only local web UI (Handler). Both use one rendering layer: the same views built from
// catalog queries, the same html/template templates and the same stylesheet (embedded). The report
// is the server's page with its assets inlined: thumbnails as data: URIs, the stylesheet allowed by
// its hash in the page's own Content-Security-Policy, no script at all.
//
// Everything shown comes from files an adversary made (names, EXIF text, release titles): it is
// escaped by html/template, cleaned of control and bidi characters, cut to a bounded length, and
// placed in <bdi> elements; nothing from a catalogued file is ever a link target or served as
// HTML.
//
// web uses catalog; catalog never imports web.
package web
