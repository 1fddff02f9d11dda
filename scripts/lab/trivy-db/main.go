// Command trivy-db builds the Berth lab's small vulnerability DB in Trivy's format (trivy.db, a bolt
// file, and metadata.json, schema version 2) from advisories.json, and publishes it to a registry as
// the OCI artifact Trivy downloads with --db-repository: one layer, media type
// application/vnd.aquasec.trivy.db.layer.v1.tar+gzip, a tar.gz of trivy.db and metadata.json titled
// db.tar.gz, the way trivy-db's own releases are pushed.
//
//	trivy-db build -advisories advisories.json -out DIR
//	trivy-db push -db DIR -ref localhost:5000/berth/trivy-db:2   (LAB_REGISTRY_USER/LAB_REGISTRY_PASSWORD)
//
// push prints the manifest digest and uploads nothing when the tag already holds it.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"
	bolt "go.etcd.io/bbolt"
)

const (
	// The media types and title trivy-db's releases carry; Trivy checks the layer's media type and
	// names the downloaded file after the title (it decompresses by the .tar.gz suffix).
	layerMediaType  = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
	configMediaType = "application/vnd.aquasec.trivy.config.v1+json"
	layerTitle      = "db.tar.gz"
	// The source ID Trivy picks the vendor severity by for Debian advisories.
	debianSourceID = "debian"
)

type advisory struct {
	ID           string `json:"id"`
	Package      string `json:"package"`
	Severity     string `json:"severity"`
	FixedVersion string `json:"fixedVersion"`
	Title        string `json:"title"`
}

type advisoryFile struct {
	Platform   string     `json:"platform"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	NextUpdate time.Time  `json:"nextUpdate"`
	Advisories []advisory `json:"advisories"`
}

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: trivy-db build|push [flags]"))
	}
	var err error
	switch os.Args[1] {
	case "build":
		flags := flag.NewFlagSet("build", flag.ExitOnError)
		in := flags.String("advisories", "advisories.json", "the advisories to write")
		out := flags.String("out", "", "the DB directory to create (trivy.db and metadata.json)")
		_ = flags.Parse(os.Args[2:])
		err = build(*in, *out)
	case "push":
		flags := flag.NewFlagSet("push", flag.ExitOnError)
		dir := flags.String("db", "", "the DB directory (trivy.db and metadata.json)")
		ref := flags.String("ref", "", "where to push, e.g. localhost:5000/berth/trivy-db:2")
		_ = flags.Parse(os.Args[2:])
		err = push(*dir, *ref)
	default:
		err = fmt.Errorf("unknown command %q: use build or push", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "trivy-db:", err)
	os.Exit(1)
}

func readAdvisories(path string) (advisoryFile, error) {
	var file advisoryFile
	data, err := os.ReadFile(path)
	if err != nil {
		return file, err
	}
	if err = json.Unmarshal(data, &file); err != nil {
		return file, fmt.Errorf("%s: %w", path, err)
	}
	if file.Platform == "" || len(file.Advisories) == 0 {
		return file, fmt.Errorf("%s: no platform or no advisories", path)
	}
	return file, nil
}

// build writes the DB the way trivy-db's own pipeline does: advisories go through the
// advisory-detail bucket and are moved into the platform's bucket ("debian 12" -> source package ->
// ID), details into the vulnerability bucket, and the platform's data source is recorded so Trivy
// takes the severity from VendorSeverity["debian"].
func build(advisoriesPath, out string) error {
	if out == "" {
		return errors.New("build: -out is required")
	}
	file, err := readAdvisories(advisoriesPath)
	if err != nil {
		return err
	}
	if err = os.RemoveAll(out); err != nil {
		return err
	}
	if err = db.Init(out); err != nil {
		return err
	}
	dbc := db.Config{}
	source := types.DataSource{
		ID:   debianSourceID,
		Name: "Debian Security Tracker (Berth lab advisories)",
		URL:  "https://salsa.debian.org/security-tracker-team/security-tracker",
	}
	published := file.UpdatedAt
	err = dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, adv := range file.Advisories {
			severity, err := types.NewSeverity(adv.Severity)
			if err != nil {
				return fmt.Errorf("%s: %w", adv.ID, err)
			}
			detail := types.Advisory{FixedVersion: adv.FixedVersion}
			if adv.FixedVersion == "" {
				detail.Status = types.StatusAffected
			}
			if err = dbc.PutAdvisoryDetail(tx, adv.ID, adv.Package, []string{file.Platform}, detail); err != nil {
				return err
			}
			vuln := types.Vulnerability{
				Title: adv.Title,
				Description: fmt.Sprintf("A synthetic advisory of the Berth lab's vulnerability DB for the Debian "+
					"source package %s; it exists so that scans in tests find something. Not a real vulnerability.",
					adv.Package),
				Severity:         adv.Severity,
				VendorSeverity:   types.VendorSeverity{debianSourceID: severity},
				PublishedDate:    &published,
				LastModifiedDate: &published,
			}
			if err = dbc.PutVulnerability(tx, adv.ID, vuln); err != nil {
				return err
			}
		}
		return dbc.PutDataSource(tx, file.Platform, source)
	})
	if err != nil {
		return err
	}
	err = dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, adv := range file.Advisories {
			if err := dbc.SaveAdvisoryDetails(tx, adv.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err = dbc.DeleteAdvisoryDetailBucket(); err != nil {
		return err
	}
	if err = db.Close(); err != nil {
		return err
	}
	return metadata.NewClient(out).Update(metadata.Metadata{
		Version:    db.SchemaVersion,
		NextUpdate: file.NextUpdate,
		UpdatedAt:  file.UpdatedAt,
	})
}

// archive is db.tar.gz: trivy.db and metadata.json at the root, with fixed owners and times, so
// the same DB always gives the same digest.
func archive(dir string) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, file := range []string{"metadata.json", "trivy.db"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		header := &tar.Header{
			Name:    file,
			Mode:    0o644,
			Size:    int64(len(data)),
			ModTime: time.Unix(0, 0),
			Format:  tar.FormatPAX,
		}
		if err = tw.WriteHeader(header); err != nil {
			return nil, err
		}
		if _, err = tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err = tw.Close(); err != nil {
		return nil, err
	}
	if err = gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type rawManifest struct{ data []byte }

func (m rawManifest) RawManifest() ([]byte, error) { return m.data, nil }
func (m rawManifest) MediaType() (ggcrtypes.MediaType, error) {
	return ggcrtypes.OCIManifestSchema1, nil
}

func descriptor(data []byte, mediaType ggcrtypes.MediaType) v1.Descriptor {
	sum := sha256.Sum256(data)
	return v1.Descriptor{
		MediaType: mediaType,
		Size:      int64(len(data)),
		Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
	}
}

func push(dir, refText string) error {
	if dir == "" || refText == "" {
		return errors.New("push: -db and -ref are required")
	}
	ref, err := name.ParseReference(refText)
	if err != nil {
		return err
	}
	layerData, err := archive(dir)
	if err != nil {
		return err
	}
	configData := []byte("{}")
	layer := descriptor(layerData, layerMediaType)
	layer.Annotations = map[string]string{"org.opencontainers.image.title": layerTitle}
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     ggcrtypes.OCIManifestSchema1,
		Config:        descriptor(configData, configMediaType),
		Layers:        []v1.Descriptor{layer},
	}
	manifestData, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	digest := descriptor(manifestData, ggcrtypes.OCIManifestSchema1).Digest

	auth := authn.Anonymous
	if user := os.Getenv("LAB_REGISTRY_USER"); user != "" {
		auth = &authn.Basic{Username: user, Password: os.Getenv("LAB_REGISTRY_PASSWORD")}
	}
	options := []remote.Option{remote.WithAuth(auth)}
	if current, err := remote.Head(ref, options...); err == nil && current.Digest == digest {
		fmt.Println(digest.String())
		return nil
	}
	repo := ref.Context()
	for _, blob := range []struct {
		data      []byte
		mediaType ggcrtypes.MediaType
	}{{configData, configMediaType}, {layerData, layerMediaType}} {
		if err = remote.WriteLayer(repo, static.NewLayer(blob.data, blob.mediaType), options...); err != nil {
			return fmt.Errorf("uploading a blob to %s: %w", repo, err)
		}
	}
	if err = remote.Put(ref, rawManifest{manifestData}, options...); err != nil {
		return fmt.Errorf("pushing the manifest to %s: %w", ref, err)
	}
	fmt.Println(digest.String())
	return nil
}
