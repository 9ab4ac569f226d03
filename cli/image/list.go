package image

import (
	"sort"
	"strconv"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

type listOptions struct {
	all, quiet, noTrunc, digests bool
	filters                      []string
	format                       string
}

// NewListCommand is `berth images`.
func NewListCommand(c *command.CLI) *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Args:  command.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			filters, err := command.ParseFilters(o.filters)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				filters.Add("reference", args[0])
			}
			res, err := api.ImageList(cmd.Context(), client.ImageListOptions{All: o.all, Filters: filters})
			if err != nil {
				return err
			}
			return writeImages(c.Out, res.Items, o, time.Now())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "Show all images (default hides intermediate images)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Only show image IDs")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	f.BoolVar(&o.digests, "digests", false, "Show digests")
	f.StringArrayVarP(&o.filters, "filter", "f", nil, "Filter output based on conditions provided")
	f.StringVar(&o.format, "format", "", format.TableFlagHelp)
	return cmd
}

var imageTable = format.Table{
	Default: "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
	Headers: map[string]string{
		"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
		"CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
		"SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE",
	},
}

func writeImages(out *command.Out, images []image.Summary, o listOptions, now time.Time) error {
	t := imageTable
	if o.digests {
		t.Default = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	}
	f := o.format
	if o.quiet {
		f = "{{.ID}}"
	}
	var rows []any
	for _, img := range images {
		for _, r := range imageRows(img, o.digests) {
			r.trunc, r.now = !o.noTrunc, now
			rows = append(rows, r)
		}
	}
	return t.Write(out, f, rows)
}

// imageRow is one line of `berth images`: an image under one of its
// names.
type imageRow struct {
	img               image.Summary
	repo, tag, digest string
	trunc             bool
	now               time.Time
}

// imageRows gives an image one row per repository and tag (and, with
// digests, per digest); an image with no name gets one <none> row.
func imageRows(img image.Summary, digests bool) []imageRow {
	tags := map[string][]string{}
	dgsts := map[string][]string{}
	for _, s := range img.RepoTags {
		if ref, err := reference.ParseNormalizedNamed(s); err == nil {
			if t, ok := ref.(reference.NamedTagged); ok {
				name := reference.FamiliarName(ref)
				tags[name] = append(tags[name], t.Tag())
			}
		}
	}
	for _, s := range img.RepoDigests {
		if ref, err := reference.ParseNormalizedNamed(s); err == nil {
			if d, ok := ref.(reference.Canonical); ok {
				name := reference.FamiliarName(ref)
				dgsts[name] = append(dgsts[name], d.Digest().String())
			}
		}
	}
	if len(tags) == 0 && len(dgsts) == 0 {
		return []imageRow{{img: img, repo: "<none>", tag: "<none>", digest: "<none>"}}
	}
	var rows []imageRow
	for _, repo := range sortedKeys(tags) {
		ds := dgsts[repo]
		delete(dgsts, repo)
		for _, tag := range tags[repo] {
			if !digests || len(ds) == 0 {
				rows = append(rows, imageRow{img: img, repo: repo, tag: tag, digest: "<none>"})
				continue
			}
			for _, d := range ds {
				rows = append(rows, imageRow{img: img, repo: repo, tag: tag, digest: d})
			}
		}
	}
	for _, repo := range sortedKeys(dgsts) {
		if !digests {
			rows = append(rows, imageRow{img: img, repo: repo, tag: "<none>", digest: "<none>"})
			continue
		}
		for _, d := range dgsts[repo] {
			rows = append(rows, imageRow{img: img, repo: repo, tag: "<none>", digest: d})
		}
	}
	return rows
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r imageRow) MarshalJSON() ([]byte, error) { return format.MarshalFields(r) }

func (r imageRow) ID() string {
	if r.trunc {
		return command.ShortID(r.img.ID)
	}
	return r.img.ID
}
func (r imageRow) Repository() string { return r.repo }
func (r imageRow) Tag() string        { return r.tag }
func (r imageRow) Digest() string     { return r.digest }
func (r imageRow) CreatedSince() string {
	return format.Ago(time.Unix(r.img.Created, 0), r.now)
}
func (r imageRow) CreatedAt() string { return time.Unix(r.img.Created, 0).String() }
func (r imageRow) Size() string {
	return format.HumanSizeWithPrecision(float64(r.img.Size), 3)
}
func (r imageRow) VirtualSize() string { return r.Size() }
func (r imageRow) Containers() string  { return countOrNA(r.img.Containers) }
func (r imageRow) SharedSize() string {
	if r.img.SharedSize < 0 {
		return "N/A"
	}
	return format.HumanSizeWithPrecision(float64(r.img.SharedSize), 3)
}
func (r imageRow) UniqueSize() string {
	if r.img.SharedSize < 0 {
		return "N/A"
	}
	return format.HumanSizeWithPrecision(float64(r.img.Size-r.img.SharedSize), 3)
}

func countOrNA(n int64) string {
	if n < 0 {
		return "N/A"
	}
	return strconv.FormatInt(n, 10)
}
