"""Packaging checks that run without Android or Apple tools: the 16 KB page-alignment check
(scripts/check-elf-alignment.py) on ELF files made here, the Swift package's privacy manifest, and
the two flavours of generated Kotlin (after tests/bindings/run.sh has built the library and the
bindings; LIB_DIR and BINDINGS_DIR as there).

    python3 -m unittest discover -s tests/packaging -v
"""

import os
import plistlib
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "scripts", "check-elf-alignment.py")
MANIFEST = os.path.join(ROOT, "ios", "Sources", "Vaxpass", "PrivacyInfo.xcprivacy")


def run_check(*paths):
    return subprocess.run(
        [sys.executable, CHECK, *paths], capture_output=True, text=True, check=False
    )


def crafted_elf(elf_class, aligns, big_endian=False):
    """A minimal ELF image: the file header and one program header per LOAD segment."""
    e = ">" if big_endian else "<"
    ident = b"\x7fELF" + bytes([elf_class, 2 if big_endian else 1, 1]) + bytes(9)
    if elf_class == 2:
        phoff, phentsize = 64, 56
        header = ident + struct.pack(e + "HHIQQQIHHHHHH", 3, 183, 1, 0, phoff, 0, 0, 64, phentsize, len(aligns), 0, 0, 0)
        phdrs = b"".join(struct.pack(e + "IIQQQQQQ", 1, 5, 0, 0, 0, 0, 0, a) for a in aligns)
    else:
        phoff, phentsize = 52, 32
        header = ident + struct.pack(e + "HHIIIIIHHHHHH", 3, 40, 1, 0, phoff, 0, 0, 52, phentsize, len(aligns), 0, 0, 0)
        phdrs = b"".join(struct.pack(e + "IIIIIIII", 1, 0, 0, 0, 0, 0, 5, a) for a in aligns)
    return header + phdrs


class ElfAlignmentCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def link(self, name, page_size):
        """A real shared object from the C compiler, linked for PAGE_SIZE pages."""
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if cc is None:
            self.fail("no C compiler (cargo needs one to build the bundled SQLite)")
        source = self.write("f.c", b"int vaxpass_probe(void) { return 42; }\n")
        out = os.path.join(self.dir, name)
        subprocess.run(
            [cc, "-shared", "-fPIC", "-o", out, source, f"-Wl,-z,max-page-size={page_size}"],
            check=True,
            capture_output=True,
        )
        return out

    def test_library_linked_for_4k_pages_fails_the_check(self):
        result = run_check(self.link("lib4k.so", 4096))
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("aligned to 4096 bytes, below 16384", result.stdout)

    def test_library_linked_for_16k_pages_passes_the_check(self):
        result = run_check(self.link("lib16k.so", 16384))
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("smallest alignment 16384", result.stdout)

    def test_one_low_segment_among_aligned_ones_fails_in_either_byte_order(self):
        for big_endian in (False, True):
            path = self.write("mixed.so", crafted_elf(2, [16384, 65536, 4096], big_endian))
            self.assertEqual(run_check(path).returncode, 1, f"big_endian={big_endian}")
            path = self.write("fine.so", crafted_elf(2, [16384, 65536], big_endian))
            self.assertEqual(run_check(path).returncode, 0, f"big_endian={big_endian}")

    def test_32bit_library_is_skipped_not_failed(self):
        result = run_check(self.write("lib32.so", crafted_elf(1, [4096])))
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("skip", result.stdout)

    def test_non_elf_truncated_and_empty_inputs_fail(self):
        whole = crafted_elf(2, [16384])
        for name, data in [
            ("text.so", b"not a library at all, just text" * 4),
            ("truncated.so", whole[: len(whole) - 8]),
            ("no-segments.so", crafted_elf(2, [])),
        ]:
            result = run_check(self.write(name, data))
            self.assertEqual(result.returncode, 1, f"{name}: {result.stdout}")
        self.assertEqual(run_check(os.path.join(self.dir, "missing.so")).returncode, 1)

    def test_directory_is_searched_and_one_bad_library_fails_it(self):
        abi = os.path.join(self.dir, "jniLibs", "arm64-v8a")
        os.makedirs(abi)
        with open(os.path.join(abi, "libgood.so"), "wb") as f:
            f.write(crafted_elf(2, [16384]))
        self.assertEqual(run_check(os.path.join(self.dir, "jniLibs")).returncode, 0)
        with open(os.path.join(abi, "libbad.so"), "wb") as f:
            f.write(crafted_elf(2, [4096]))
        self.assertEqual(run_check(os.path.join(self.dir, "jniLibs")).returncode, 1)
        empty = os.path.join(self.dir, "empty")
        os.makedirs(empty)
        self.assertEqual(run_check(empty).returncode, 1)


# Apple's required-reason categories and the reasons each allows ("Describing use of required
# reason API"), for the categories an app or SDK can declare.
ALLOWED_REASONS = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": {"DDA9.1", "C617.1", "3B52.1", "0A2A.1"},
    "NSPrivacyAccessedAPICategorySystemBootTime": {"35F9.1", "8FFB.1", "3D61.1"},
    "NSPrivacyAccessedAPICategoryDiskSpace": {"85F4.1", "E174.1", "7D9E.1", "B728.1"},
    "NSPrivacyAccessedAPICategoryActiveKeyboards": {"3EC4.1", "54BD.1"},
    "NSPrivacyAccessedAPICategoryUserDefaults": {"CA92.1", "1C8F.1", "C56D.1", "AC6B.1"},
}
# What vaxpass uses: SQLite's stat/fstat on its own database files, SQLite's statfs (the
# volume's type, to choose how to lock), and SystemMonotonicClock's time since boot.
EXPECTED = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": ["C617.1"],
    "NSPrivacyAccessedAPICategoryDiskSpace": ["E174.1"],
    "NSPrivacyAccessedAPICategorySystemBootTime": ["35F9.1"],
}


class PrivacyManifestTest(unittest.TestCase):
    def setUp(self):
        with open(MANIFEST, "rb") as f:
            self.manifest = plistlib.load(f)

    def test_manifest_has_exactly_the_four_top_level_keys(self):
        self.assertEqual(
            set(self.manifest),
            {"NSPrivacyTracking", "NSPrivacyTrackingDomains", "NSPrivacyCollectedDataTypes", "NSPrivacyAccessedAPITypes"},
        )

    def test_manifest_declares_no_tracking_and_no_collected_data(self):
        self.assertIs(self.manifest["NSPrivacyTracking"], False)
        self.assertEqual(self.manifest["NSPrivacyTrackingDomains"], [])
        self.assertEqual(self.manifest["NSPrivacyCollectedDataTypes"], [])

    def test_manifest_declares_sqlite_and_clock_apis_with_allowed_reasons(self):
        declared = {}
        for entry in self.manifest["NSPrivacyAccessedAPITypes"]:
            self.assertEqual(set(entry), {"NSPrivacyAccessedAPIType", "NSPrivacyAccessedAPITypeReasons"})
            category = entry["NSPrivacyAccessedAPIType"]
            self.assertIn(category, ALLOWED_REASONS, "unknown category")
            self.assertNotIn(category, declared, "category declared twice")
            reasons = entry["NSPrivacyAccessedAPITypeReasons"]
            self.assertTrue(set(reasons) <= ALLOWED_REASONS[category], f"{category}: {reasons}")
            declared[category] = reasons
        self.assertEqual(declared, EXPECTED)

    def test_manifest_lies_in_the_swift_target_directory(self):
        # Package.swift's Vaxpass target (path ios/Sources/Vaxpass) copies it as a resource;
        # tests/bindings/swift.sh checks that against SwiftPM's own reading of the manifest.
        with open(os.path.join(ROOT, "Package.swift"), encoding="utf-8") as f:
            package = f.read()
        self.assertIn('path: "ios/Sources/Vaxpass"', package)
        self.assertIn('resources: [.copy("PrivacyInfo.xcprivacy")]', package)


class KotlinFlavoursTest(unittest.TestCase):
    """The Kotlin that ships (Android cleaner, bindings/uniffi.toml) differs from the Kotlin the
    JVM tests compile and run (generate-bindings.sh, android_cleaner = false) in the cleaner
    alone, so the tests cover everything else the Android module ships."""

    def setUp(self):
        lib_dir = os.path.abspath(os.environ.get("LIB_DIR", os.path.join(ROOT, "target", "debug")))
        bindings_dir = os.path.abspath(os.environ.get("BINDINGS_DIR", os.path.join(ROOT, "target", "bindings")))
        library = os.path.join(lib_dir, "libvaxpass_ffi.so")
        target_dir = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"))
        bindgen = os.path.join(target_dir, "debug", "uniffi-bindgen")
        jvm = os.path.join(bindings_dir, "kotlin", "io", "vaxpass", "vaxpass.kt")
        for path in (library, bindgen, jvm):
            self.assertTrue(os.path.exists(path), f"{path} missing: run tests/bindings/run.sh")
        out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, out)
        subprocess.run(
            [bindgen, "generate", "--no-format", "--library", library, "--config", "bindings/uniffi.toml",
             "--language", "kotlin", "--out-dir", out],
            cwd=ROOT, check=True, capture_output=True,
        )
        android = os.path.join(out, "io", "vaxpass", "vaxpass.kt")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "patch-bindings.py"), "kotlin", android], check=True)
        with open(android, encoding="utf-8") as f:
            self.android = f.read()
        with open(jvm, encoding="utf-8") as f:
            self.jvm = f.read()

    @staticmethod
    def without_cleaner(source):
        """The source less its cleaner choice (from `UniffiCleaner.Companion.create` to the next
        doc comment), the imports it needs and blank lines."""
        lines, skipping = [], False
        for line in source.splitlines():
            if line.startswith("private fun UniffiCleaner.Companion.create()"):
                skipping = True
            elif skipping and line.startswith("/**"):
                skipping = False
            if not skipping and line.strip() and line not in ("import android.os.Build", "import androidx.annotation.RequiresApi"):
                lines.append(line)
        return lines

    def test_android_flavour_never_uses_java_lang_ref_cleaner(self):
        self.assertIn("android.system.SystemCleaner.cleaner()", self.android)
        self.assertIn("Build.VERSION_CODES.UPSIDE_DOWN_CAKE", self.android)
        self.assertNotIn("java.lang.ref.Cleaner.create()", self.android)

    def test_jvm_flavour_needs_no_android_class(self):
        self.assertNotIn("import android.", self.jvm)
        self.assertNotIn("android.system", self.jvm)

    def test_flavours_differ_in_the_cleaner_alone(self):
        self.assertNotEqual(self.android, self.jvm)
        self.assertEqual(self.without_cleaner(self.android), self.without_cleaner(self.jvm))


if __name__ == "__main__":
    unittest.main()
