// tlogcheck reads a tlog-tiles log (an HTTP prefix or a directory) with Go's reference
// libraries: golang.org/x/mod/sumdb/note opens the checkpoint, sumdb/tlog's TileHashReader
// reads (and authenticates) the tiles, and inclusion and consistency proofs built from them
// are checked against the signed root. With -add FILE it also checks the consistency proof
// of a tlog-witness add-checkpoint body against the tiles. Prints "ok" or fails (exit 1).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type source struct {
	base, auth string
}

func (s source) get(path string) ([]byte, error) {
	if !strings.HasPrefix(s.base, "http") {
		return os.ReadFile(filepath.Join(s.base, path))
	}
	req, err := http.NewRequest("GET", strings.TrimRight(s.base, "/")+"/"+path, nil)
	if err != nil {
		return nil, err
	}
	if s.auth != "" {
		req.Header.Set("Authorization", "Bearer "+s.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return body, nil
}

// c2spPath is the C2SP tlog-tiles path of a sumdb tile: the same, without the height.
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	return "tile/" + strings.Replace(p, "data/", "entries/", 1)
}

type tileReader struct{ src source }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := r.src.get(c2spPath(t))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func openCheckpoint(raw []byte, verifier note.Verifier) (string, int64, tlog.Hash) {
	n, err := note.Open(raw, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint: too few lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("checkpoint root: %v", err)
	}
	var h tlog.Hash
	copy(h[:], root)
	return lines[0], size, h
}

func entry(src source, size, index int64) []byte {
	n := index / 256
	w := size - n*256
	if w > 256 {
		w = 256
	}
	data, err := src.get(c2spPath(tlog.Tile{H: 8, L: -1, N: n, W: int(w)}))
	if err != nil {
		fail("entry bundle: %v", err)
	}
	for i := int64(0); ; i++ {
		if len(data) < 2 {
			fail("entry bundle %d: entry %d missing", n, index)
		}
		l := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+l {
			fail("entry bundle %d: truncated", n)
		}
		if i == index%256 {
			return data[2 : 2+l]
		}
		data = data[2+l:]
	}
}

func main() {
	auth := flag.String("auth", "", "bearer token for entry bundles")
	add := flag.String("add", "", "an add-checkpoint body whose consistency proof to check")
	flag.Parse()
	if flag.NArg() != 2 {
		fail("usage: tlogcheck [-auth TOKEN] [-add FILE] SOURCE VKEY")
	}
	src := source{flag.Arg(0), *auth}
	verifier, err := note.NewVerifier(flag.Arg(1))
	if err != nil {
		fail("vkey: %v", err)
	}
	raw, err := src.get("checkpoint")
	if err != nil {
		fail("checkpoint: %v", err)
	}
	_, size, root := openCheckpoint(raw, verifier)
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, tileReader{src})
	if got, err := tlog.TreeHash(size, hr); err != nil || got != root {
		fail("tree hash from tiles: %v (%v)", got, err)
	}
	for _, i := range []int64{0, size / 3, size / 2, size - 1} {
		proof, err := tlog.ProveRecord(size, i, hr)
		if err != nil {
			fail("inclusion proof of %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, size, root, i, tlog.RecordHash(entry(src, size, i))); err != nil {
			fail("inclusion of record %d: %v", i, err)
		}
	}
	for _, old := range []int64{1, size / 2, size - 1} {
		if old < 1 {
			continue
		}
		oldHash, err := tlog.TreeHash(old, hr)
		if err != nil {
			fail("tree hash at %d: %v", old, err)
		}
		proof, err := tlog.ProveTree(size, old, hr)
		if err != nil {
			fail("consistency proof %d..%d: %v", old, size, err)
		}
		if err := tlog.CheckTree(proof, size, root, old, oldHash); err != nil {
			fail("consistency %d..%d: %v", old, size, err)
		}
	}
	if *add != "" {
		checkAdd(*add, verifier, hr)
	}
	fmt.Println("ok", size)
}

// checkAdd checks an add-checkpoint body as a witness holding the tiled tree would.
func checkAdd(path string, verifier note.Verifier, hr tlog.HashReader) {
	body, err := os.ReadFile(path)
	if err != nil {
		fail("add-checkpoint body: %v", err)
	}
	cut := bytes.Index(body, []byte("\n\n"))
	if cut < 0 {
		fail("add-checkpoint body: no blank line")
	}
	head := strings.Split(string(body[:cut]), "\n")
	old, err := strconv.ParseInt(strings.TrimPrefix(head[0], "old "), 10, 64)
	if err != nil {
		fail("old line: %v", err)
	}
	var proof tlog.TreeProof
	for _, line := range head[1:] {
		h, err := tlog.ParseHash(line)
		if err != nil {
			fail("proof line: %v", err)
		}
		proof = append(proof, h)
	}
	_, size, root := openCheckpoint(body[cut+2:], verifier)
	oldHash, err := tlog.TreeHash(old, hr)
	if err != nil {
		fail("tree hash at %d: %v", old, err)
	}
	if err := tlog.CheckTree(proof, size, root, old, oldHash); err != nil {
		fail("add-checkpoint consistency %d..%d: %v", old, size, err)
	}
}
