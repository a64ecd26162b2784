package docker

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// The sandbox ("infra") container runs a program Flotilla generates itself:
// a static ELF executable of a few bytes of machine code that blocks in a
// system call forever. It is written here as bytes, so the runtime needs
// neither a registry nor a Go toolchain: the image is imported from an
// in-memory tar through the Engine API.
//
// amd64:  loop: mov eax, 34 (pause); syscall; jmp loop
// arm64:  loop: x0..x3 = 0; x8 = 73 (ppoll); svc #0; b loop
//
//	(arm64 has no pause(2); ppoll with no fds and no timeout blocks.)
//
// As PID 1 of its PID namespace it ignores SIGTERM (no handler), so the
// runtime stops sandboxes with SIGKILL.
var pauseCode = map[string][]byte{
	"amd64": {
		0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34
		0x0f, 0x05, // syscall
		0xeb, 0xf7, // jmp -9
	},
	"arm64": le32(
		0xd2800000, // mov x0, #0
		0xd2800001, // mov x1, #0
		0xd2800002, // mov x2, #0
		0xd2800003, // mov x3, #0
		0xd2800928, // mov x8, #73
		0xd4000001, // svc #0
		0x17fffffa, // b -24
	),
}

var elfMachine = map[string]uint16{"amd64": 0x3e, "arm64": 0xb7}

func le32(words ...uint32) []byte {
	b := make([]byte, 0, 4*len(words))
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// pauseELF returns the static ELF64 executable for arch ("amd64" or
// "arm64"): one ELF header, one PT_LOAD program header mapping the whole
// file read+execute at 0x400000, then the code.
func pauseELF(arch string) ([]byte, error) {
	code, ok := pauseCode[arch]
	if !ok {
		return nil, fmt.Errorf("docker: no infra program for architecture %q (have amd64, arm64)", arch)
	}
	const (
		base   = 0x400000
		ehsize = 64
		phsize = 56
	)
	size := uint64(ehsize + phsize + len(code))
	b := make([]byte, 0, size)
	le := binary.LittleEndian
	b = append(b, 0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* SysV */)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint16(b, 2) // ET_EXEC
	b = le.AppendUint16(b, elfMachine[arch])
	b = le.AppendUint32(b, 1)                  // EV_CURRENT
	b = le.AppendUint64(b, base+ehsize+phsize) // entry
	b = le.AppendUint64(b, ehsize)             // phoff
	b = le.AppendUint64(b, 0)                  // shoff
	b = le.AppendUint32(b, 0)                  // flags
	b = le.AppendUint16(b, ehsize)             // ehsize
	b = le.AppendUint16(b, phsize)             // phentsize
	b = le.AppendUint16(b, 1)                  // phnum
	b = le.AppendUint16(b, 0)                  // shentsize
	b = le.AppendUint16(b, 0)                  // shnum
	b = le.AppendUint16(b, 0)                  // shstrndx
	b = le.AppendUint32(b, 1)                  // PT_LOAD
	b = le.AppendUint32(b, 5)                  // PF_R|PF_X
	b = le.AppendUint64(b, 0)                  // offset
	b = le.AppendUint64(b, base)               // vaddr
	b = le.AppendUint64(b, base)               // paddr
	b = le.AppendUint64(b, size)               // filesz
	b = le.AppendUint64(b, size)               // memsz
	b = le.AppendUint64(b, 0x10000)            // align (64 KiB pages work too)
	return append(b, code...), nil
}

// pauseImage returns the image reference and the tar (one file, /pause)
// of the infra image for arch. The tag is the content hash, so a changed
// program gets a new image and an unchanged one is imported once.
func pauseImage(arch string) (ref string, tarball []byte, err error) {
	elf, err := pauseELF(arch)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(elf)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: "pause", Mode: 0o555, Size: int64(len(elf)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		return "", nil, err
	}
	if _, err := tw.Write(elf); err != nil {
		return "", nil, err
	}
	if err := tw.Close(); err != nil {
		return "", nil, err
	}
	return "flotilla/pause:" + hex.EncodeToString(sum[:6]), buf.Bytes(), nil
}
