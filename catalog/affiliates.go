package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Log actions: an ingest's, and those of the housekeeping commands.
const (
	ActionIngest          = "ingest"
	ActionAffiliateRename = "affiliate-rename"
	ActionAffiliateAlias  = "affiliate-alias"
	ActionAffiliateMerge  = "affiliate-merge"
)

// HousekeepingOptions say who runs a housekeeping change, for the log.
type HousekeepingOptions struct {
	Operator string
	Command  string
}

// affiliateByName finds the affiliate a name means: its slug, one of its aliases or its display name,
// compared without case and surrounding blanks. It returns "" when none matches.
func affiliateByName(tx *bolt.Tx, name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return "", nil
	}
	affs := tx.Bucket(bucketAffiliates)
	if affs.Get([]byte(n)) != nil {
		return n, nil
	}
	found := ""
	err := affs.ForEach(func(k, v []byte) error {
		var a Affiliate
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("affiliate %q record: %w", k, err)
		}
		if found != "" {
			return nil
		}
		if strings.EqualFold(strings.TrimSpace(a.Name), n) {
			found = a.Slug
		}
		for _, al := range a.Aliases {
			if strings.EqualFold(strings.TrimSpace(al), n) {
				found = a.Slug
			}
		}
		return nil
	})
	return found, err
}

// ResolveAffiliate turns what a user typed (slug, alias such as "ISKP", or display name) into the
// slug of a known affiliate. An unknown name is an ErrNotFound that says how to list them.
func (c *Catalog) ResolveAffiliate(name string) (string, error) {
	var slug string
	err := c.view(func(tx *bolt.Tx) error {
		var err error
		slug, err = affiliateByName(tx, name)
		return err
	})
	if err != nil {
		return "", err
	}
	if slug == "" {
		return "", fmt.Errorf("%w: unknown affiliate %q (list them with `relcat affiliates`)", ErrNotFound, name)
	}
	return slug, nil
}

// resolveAliasForIngest maps an alias or display name in release.json or --affiliate to its slug; a
// name no affiliate answers to is returned as given (ingest creates the affiliate).
func (c *Catalog) resolveAliasForIngest(name string) (string, error) {
	var slug string
	err := c.view(func(tx *bolt.Tx) error {
		var err error
		slug, err = affiliateByName(tx, name)
		return err
	})
	if err != nil || slug == "" {
		return name, err
	}
	return slug, nil
}

func getAffiliate(tx *bolt.Tx, slug string) (*Affiliate, error) {
	v := tx.Bucket(bucketAffiliates).Get([]byte(slug))
	if v == nil {
		return nil, fmt.Errorf("%w: unknown affiliate %q (list them with `relcat affiliates`)", ErrNotFound, slug)
	}
	var a Affiliate
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("affiliate %q record: %w", slug, err)
	}
	return &a, nil
}

// forEachBatch calls fn for every batch record (fn may not write the batches bucket).
func forEachBatch(tx *bolt.Tx, fn func(*Batch) error) error {
	return tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
		var b Batch
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("batch %x record: %w", k, err)
		}
		return fn(&b)
	})
}

// reassignBatches moves every batch of affiliate from to affiliate to; each keeps its id and gains
// the identity it would have under its new affiliate (so re-ingesting its folder finds it).
func reassignBatches(tx *bolt.Tx, from, to string) (int, error) {
	var moved []*Batch
	if err := forEachBatch(tx, func(b *Batch) error {
		if b.Affiliate == from {
			moved = append(moved, b)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, b := range moved {
		b.Affiliate = to
		b.addAka(BatchIdentity(b.Affiliate, b.Released, b.Folder))
		if err := putBatchRecord(tx, b); err != nil {
			return 0, err
		}
	}
	return len(moved), nil
}

// identityHolds says whether the batch's id follows from its fields: it is the BatchIdentity of its
// affiliate, release time and folder, or (after an affiliate rename or merge or a batch edit, which
// keep the id) that identity is one of its Aka. Verify and bundle import hold records to it.
func (b *Batch) identityHolds() bool {
	ident := BatchIdentity(b.Affiliate, b.Released, b.Folder)
	return ident == b.ID || slices.Contains(b.Aka, ident)
}

func (b *Batch) addAka(id BatchID) {
	if id == b.ID {
		return
	}
	for _, a := range b.Aka {
		if a == id {
			return
		}
	}
	b.Aka = append(b.Aka, id)
}

// logChange appends one housekeeping log entry.
func (c *Catalog) logChange(tx *bolt.Tx, o HousekeepingOptions, e LogEntry) error {
	e.Time = c.now().UTC()
	e.Operator = o.Operator
	e.Command = o.Command
	e.Tool = c.version
	return appendLog(tx, &e)
}

// checkNewName refuses a name another affiliate already answers to (slug, alias or display name).
func checkNewName(tx *bolt.Tx, name, self string) error {
	other, err := affiliateByName(tx, name)
	if err != nil {
		return err
	}
	if other != "" && other != self {
		return fmt.Errorf("%w: %q already names affiliate %s", ErrBadArgument, name, other)
	}
	return nil
}

// RenameAffiliate gives an affiliate a new slug. Its batches follow (their ids stay); the old slug
// becomes an alias, so release.json files and filters that use it still resolve.
func (c *Catalog) RenameAffiliate(oldName, newSlug string, o HousekeepingOptions) error {
	newSlug = strings.ToLower(strings.TrimSpace(newSlug))
	if !ValidSlug(newSlug) {
		return fmt.Errorf("%w: %q is not a slug (lowercase letters, digits, dashes, e.g. is-khorasan)", ErrBadArgument, newSlug)
	}
	return c.update(func(tx *bolt.Tx) error {
		old, err := affiliateByName(tx, oldName)
		if err != nil {
			return err
		}
		if old == "" {
			return fmt.Errorf("%w: unknown affiliate %q (list them with `relcat affiliates`)", ErrNotFound, oldName)
		}
		if old == newSlug {
			return fmt.Errorf("%w: affiliate %s already has that slug", ErrBadArgument, old)
		}
		if err := checkNewName(tx, newSlug, old); err != nil {
			return err
		}
		a, err := getAffiliate(tx, old)
		if err != nil {
			return err
		}
		a.Slug = newSlug
		a.Aliases = addAlias(removeAlias(a.Aliases, newSlug), old)
		affs := tx.Bucket(bucketAffiliates)
		if err := affs.Delete([]byte(old)); err != nil {
			return err
		}
		if err := putJSON(affs, []byte(newSlug), a); err != nil {
			return err
		}
		n, err := reassignBatches(tx, old, newSlug)
		if err != nil {
			return err
		}
		return c.logChange(tx, o, LogEntry{Action: ActionAffiliateRename, Affiliate: newSlug,
			Notes: []string{fmt.Sprintf("affiliate %s renamed to %s (%d batches; %s kept as an alias)", old, newSlug, n, old)}})
	})
}

func addAlias(as []string, a string) []string {
	for _, x := range as {
		if strings.EqualFold(x, a) {
			return as
		}
	}
	return append(as, a)
}

func removeAlias(as []string, a string) []string {
	var out []string
	for _, x := range as {
		if !strings.EqualFold(x, a) {
			out = append(out, x)
		}
	}
	return out
}

// AliasAffiliate adds aliases to an affiliate ("ISKP", "Wilayat Khurasan"). An alias resolves like
// the slug on ingest, in release.json and in every filter.
func (c *Catalog) AliasAffiliate(name string, aliases []string, o HousekeepingOptions) error {
	return c.update(func(tx *bolt.Tx) error {
		slug, err := affiliateByName(tx, name)
		if err != nil {
			return err
		}
		if slug == "" {
			return fmt.Errorf("%w: unknown affiliate %q (list them with `relcat affiliates`)", ErrNotFound, name)
		}
		a, err := getAffiliate(tx, slug)
		if err != nil {
			return err
		}
		var added []string
		for _, al := range aliases {
			al = strings.TrimSpace(al)
			if al == "" || len(al) > 200 || strings.ContainsAny(al, "\x00\n\r") {
				return fmt.Errorf("%w: alias %q: give 1 to 200 characters on one line", ErrBadArgument, al)
			}
			if err := checkNewName(tx, al, slug); err != nil {
				return err
			}
			if strings.EqualFold(al, slug) {
				continue
			}
			before := len(a.Aliases)
			a.Aliases = addAlias(a.Aliases, al)
			if len(a.Aliases) > before {
				added = append(added, al)
			}
		}
		if len(added) == 0 {
			return nil
		}
		if err := putJSON(tx.Bucket(bucketAffiliates), []byte(slug), a); err != nil {
			return err
		}
		return c.logChange(tx, o, LogEntry{Action: ActionAffiliateAlias, Affiliate: slug,
			Notes: []string{fmt.Sprintf("aliases added to %s: %s", slug, strings.Join(added, ", "))}})
	})
}

// MergeAffiliates merges affiliate from into affiliate into: from's batches become into's (both
// histories are kept: every batch, sighting and log entry stays), from's slug, name and aliases become
// aliases of into, and from's record goes.
func (c *Catalog) MergeAffiliates(fromName, intoName string, o HousekeepingOptions) error {
	return c.update(func(tx *bolt.Tx) error {
		from, err := affiliateByName(tx, fromName)
		if err != nil {
			return err
		}
		into, err := affiliateByName(tx, intoName)
		if err != nil {
			return err
		}
		for _, p := range [][2]string{{from, fromName}, {into, intoName}} {
			if p[0] == "" {
				return fmt.Errorf("%w: unknown affiliate %q (list them with `relcat affiliates`)", ErrNotFound, p[1])
			}
		}
		if from == into {
			return fmt.Errorf("%w: %q and %q are the same affiliate (%s)", ErrBadArgument, fromName, intoName, from)
		}
		fa, err := getAffiliate(tx, from)
		if err != nil {
			return err
		}
		ia, err := getAffiliate(tx, into)
		if err != nil {
			return err
		}
		ia.Aliases = addAlias(ia.Aliases, from)
		if fa.Name != "" {
			ia.Aliases = addAlias(ia.Aliases, fa.Name)
		}
		for _, al := range fa.Aliases {
			ia.Aliases = addAlias(ia.Aliases, al)
		}
		affs := tx.Bucket(bucketAffiliates)
		if err := affs.Delete([]byte(from)); err != nil {
			return err
		}
		if err := putJSON(affs, []byte(into), ia); err != nil {
			return err
		}
		n, err := reassignBatches(tx, from, into)
		if err != nil {
			return err
		}
		return c.logChange(tx, o, LogEntry{Action: ActionAffiliateMerge, Affiliate: into,
			Notes: []string{fmt.Sprintf("affiliate %s merged into %s (%d batches moved; %s kept as an alias)", from, into, n, from)}})
	})
}

// AffiliateDetail is one affiliate with its releases and the housekeeping log entries about it.
type AffiliateDetail struct {
	AffiliateInfo
	Releases []Batch    `json:"releases"`
	Changes  []LogEntry `json:"changes"` // renames, aliases, merges, batch edits naming it
}

// AffiliateShow returns one affiliate (by slug, alias or name) with its batches, earliest first.
func (c *Catalog) AffiliateShow(name string) (*AffiliateDetail, error) {
	slug, err := c.ResolveAffiliate(name)
	if err != nil {
		return nil, err
	}
	infos, err := c.Affiliates()
	if err != nil {
		return nil, err
	}
	d := &AffiliateDetail{Releases: []Batch{}, Changes: []LogEntry{}}
	for _, a := range infos {
		if a.Slug == slug {
			d.AffiliateInfo = a
		}
	}
	if d.Releases, err = c.Batches(slug); err != nil {
		return nil, err
	}
	if d.Releases == nil {
		d.Releases = []Batch{}
	}
	names := append([]string{slug}, d.Aliases...)
	// Ingest entries (nearly all of a long log) are skipped undecoded: Go's JSON encoding writes the
	// action as this exact key and value, and the same bytes inside a string value are escaped.
	ingest := []byte(`"action":"` + ActionIngest + `"`)
	err = c.logWhere(func(raw []byte) bool { return bytes.Contains(raw, ingest) }, func(e LogEntry) bool {
		if e.Action == ActionIngest {
			return true
		}
		for _, n := range names {
			if strings.EqualFold(e.Affiliate, n) || mentions(e.Notes, n) {
				d.Changes = append(d.Changes, e)
				break
			}
		}
		return true
	})
	sort.SliceStable(d.Changes, func(i, j int) bool { return d.Changes[i].Seq < d.Changes[j].Seq })
	return d, err
}

func mentions(notes []string, name string) bool {
	for _, n := range notes {
		for _, w := range strings.FieldsFunc(n, func(r rune) bool { return r == ' ' || r == ',' || r == '(' || r == ')' || r == ';' }) {
			if strings.EqualFold(w, name) {
				return true
			}
		}
	}
	return false
}

// checkAffiliates is verify's check of the affiliate records: no alias or name answers for two
// affiliates, and no alias is another affiliate's slug.
func checkAffiliates(tx *bolt.Tx, add func(kind, subject, format string, args ...any)) {
	owner := map[string]string{}
	_ = tx.Bucket(bucketAffiliates).ForEach(func(k, _ []byte) error {
		owner[strings.ToLower(string(k))] = string(k)
		return nil
	})
	_ = tx.Bucket(bucketAffiliates).ForEach(func(k, v []byte) error {
		var a Affiliate
		if err := json.Unmarshal(v, &a); err != nil || a.Slug != string(k) {
			add("record", fmt.Sprintf("affiliate %q", k), "unreadable or mismatched affiliate record")
			return nil
		}
		names := a.Aliases
		if a.Name != "" {
			names = append(names[:len(names):len(names)], a.Name)
		}
		for _, n := range names {
			n = strings.ToLower(strings.TrimSpace(n))
			if o, ok := owner[n]; ok && o != a.Slug {
				add("affiliate", a.Slug, "alias or name %q also names affiliate %s: `relcat affiliate merge` them or remove one", n, o)
				continue
			}
			owner[n] = a.Slug
		}
		return nil
	})
}

// batchFor finds the batch an ingest of folder for (aff, rel) adds to: the batch with that identity,
// or the batch that answers to it after a rename, merge or edit (Batch.Aka). A stored batch keeps
// its (edited) affiliate and release time; note says so when they differ from what the ingest gives.
func (c *Catalog) batchFor(aff string, rel Released, folder string) (BatchID, string, Released, string, error) {
	natural := BatchIdentity(aff, rel, folder)
	var found *Batch
	err := c.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBatches).Get(natural[:]) != nil {
			b, err := getBatch(tx, natural)
			found = b
			return err
		}
		b, indexed, err := batchByAka(tx, natural)
		if indexed || err != nil {
			found = b
			return err
		}
		// No current alias index (a catalog last written by a relcat without it): read the
		// records. Only those with other identities can answer; the others are not decoded.
		if akaRecordsRead != nil {
			akaRecordsRead()
		}
		return tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
			if found != nil {
				return nil
			}
			aka, err := akaOfRecord(k, v)
			if err != nil {
				return err
			}
			if slices.Contains(aka, natural) {
				var id BatchID
				copy(id[:], k)
				found, err = getBatch(tx, id)
			}
			return err
		})
	})
	if err != nil || found == nil {
		return natural, aff, rel, "", err
	}
	note := ""
	if found.Affiliate != aff || found.Released.String() != rel.String() {
		note = fmt.Sprintf("batch %s was edited: it stays %s, released %s (this ingest says %s, released %s)",
			found.ID, found.Affiliate, found.Released, aff, rel)
	}
	return found.ID, found.Affiliate, found.Released, note, nil
}
