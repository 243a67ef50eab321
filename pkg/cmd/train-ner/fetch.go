package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// defaultCache is where downloaded training inputs are kept between runs.
func defaultCache() string {
	if d := os.Getenv("NEWSFLOW_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "newsflow")
	}
	return ".cache"
}

// maxDownload bounds a pinned download (the wheel is 98 MB).
const maxDownload = 512 << 20

// fetchPinned returns the path of name in dir, downloading it from url
// first when it is missing, and checks its SHA-256 against want either way.
func fetchPinned(dir, url, name, want string) (string, error) {
	path := filepath.Join(dir, name)
	if err := checkSHA256(path, want); err == nil {
		return path, nil
	} else if !os.IsNotExist(err) {
		log.Printf("train-ner: %v; downloading again", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	log.Printf("train-ner: downloading %s", url)
	c := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: time.Minute,
	}}
	resp, err := c.Get(url)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, name+".*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, io.LimitReader(resp.Body, maxDownload)); err != nil {
		tmp.Close()
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := checkSHA256(tmp.Name(), want); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

func checkSHA256(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: sha256 %s, want %s", path, got, want)
	}
	return nil
}
