// The vaxpass Android library: the Rust core (libvaxpass_ffi.so for each ABI, built with cargo-ndk)
// plus the Kotlin bindings uniffi-bindgen generates from it. Nothing generated is checked in:
//   cargoBuildHost          cargo build -p vaxpass-ffi -p uniffi-bindgen (host, debug)
//   generateUniffiBindings  uniffi-bindgen on the host library -> build/generated/uniffi
//   patchUniffiBindings     scripts/patch-bindings.py kotlin on what was generated (python3)
//   cargoNdkBuild           cargo ndk for vaxpass.abis -> build/jniLibs
//   checkElfAlignment       scripts/check-elf-alignment.py on those and on JNA's libjnidispatch.so
// The patched bindings and the checked Android libraries are made before preBuild. JVM unit tests
// (src/test) load the host library.
//
// The plugins carry no version here: this module's own build (android/settings.gradle.kts) pins
// them, and an app that `include`s this directory supplies its own Android Gradle Plugin and
// Kotlin (README.md, "Adding the SDK to an app").
import java.util.concurrent.Callable
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

// Coordinates an app's `includeBuild` substitutes this module for: implementation("io.vaxpass:vaxpass").
group = "io.vaxpass"
version = "0.1.0"

val minSdkVersion = 24
// The NDK cargo-ndk links with (r28c): 16 KB-aligned by default, and bindings/build.rs asks for it.
val ndkVersionPinned = "28.2.13676358"
// JNA 5.17.0 is the first whose Android libjnidispatch.so loads with 16 KB pages (JNA issues #1618,
// #1647); older ones crash in Native.<clinit> on such devices.
val jnaVersion = "5.18.1"
// The cargo-ndk the Android libraries are built with (cargo install cargo-ndk --version 4.1.2 --locked).
val cargoNdkVersion = "4.1.2"

/** The Rust workspace: this module is its `android/` directory, wherever the including build's root is. */
val workspaceDir: File = projectDir.parentFile
val cargo: String = providers.gradleProperty("vaxpass.cargo").getOrElse("cargo")
val abis: List<String> = providers.gradleProperty("vaxpass.abis")
    .getOrElse("arm64-v8a,armeabi-v7a,x86_64").split(',').map { it.trim() }.filter { it.isNotEmpty() }
val rustProfile: String = providers.gradleProperty("vaxpass.rustProfile").getOrElse("release")

val hostOs: String = System.getProperty("os.name").lowercase()
val hostLibraryName: String = when {
    hostOs.contains("mac") -> "libvaxpass_ffi.dylib"
    hostOs.contains("windows") -> "vaxpass_ffi.dll"
    else -> "libvaxpass_ffi.so"
}
val hostDebugDir: File = workspaceDir.resolve("target/debug")
val hostLibrary: File = hostDebugDir.resolve(hostLibraryName)
val uniffiBindgen: File = hostDebugDir.resolve(if (hostOs.contains("windows")) "uniffi-bindgen.exe" else "uniffi-bindgen")

val jniLibsDir: File = layout.buildDirectory.dir("jniLibs").get().asFile
val uniffiDir: File = layout.buildDirectory.dir("generated/uniffi").get().asFile

val cargoBuildHost by tasks.registering(Exec::class) {
    group = "vaxpass"
    description = "Builds libvaxpass_ffi and uniffi-bindgen for this machine (debug)."
    workingDir(workspaceDir)
    commandLine(cargo, "build", "--locked", "-p", "vaxpass-ffi", "-p", "uniffi-bindgen")
    outputs.upToDateWhen { false } // cargo knows what is up to date
}

val generateUniffiBindings by tasks.registering(Exec::class) {
    group = "vaxpass"
    description = "Generates the Kotlin bindings from the host library into build/generated/uniffi."
    dependsOn(cargoBuildHost)
    val out = uniffiDir
    inputs.file(hostLibrary)
    inputs.file(uniffiBindgen)
    inputs.file(workspaceDir.resolve("bindings/uniffi.toml"))
    outputs.dir(out)
    workingDir(workspaceDir) // library mode runs `cargo metadata`
    // bindings/uniffi.toml is for Android (android_cleaner: android.system.SystemCleaner from API
    // 34, JNA's cleaner below, never java.lang.ref.Cleaner). Gradle's unit tests compile the same
    // code against android.jar; the test run outside Gradle uses the JVM flavour.
    commandLine(
        uniffiBindgen.path, "generate", "--no-format",
        "--library", hostLibrary.path,
        "--config", "bindings/uniffi.toml",
        "--language", "kotlin",
        "--out-dir", out.path,
    )
    doFirst { out.deleteRecursively() }
}

val patchUniffiBindings by tasks.registering(Exec::class) {
    group = "vaxpass"
    description = "Applies scripts/patch-bindings.py to the generated Kotlin (reused call statuses)."
    dependsOn(generateUniffiBindings)
    inputs.file(workspaceDir.resolve("scripts/patch-bindings.py"))
    workingDir(workspaceDir)
    // Idempotent: a file patched already is left as it is.
    commandLine("python3", "scripts/patch-bindings.py", "kotlin", uniffiDir.resolve("io/vaxpass/vaxpass.kt").path)
}

/** JNA's AAR alone, to check its native libraries like ours. */
val jnaAar: Configuration by configurations.creating {
    isCanBeConsumed = false
    isTransitive = false
}
val jnaNativesDir: File = layout.buildDirectory.dir("jna-natives").get().asFile
val extractJnaNatives by tasks.registering(Sync::class) {
    group = "vaxpass"
    description = "Unpacks libjnidispatch.so of each ABI from JNA's AAR into build/jna-natives."
    from(Callable { jnaAar.files.map { zipTree(it) } })
    include("jni/**/libjnidispatch.so")
    into(jnaNativesDir)
}

val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "vaxpass"
    description = "Builds libvaxpass_ffi.so for $abis with cargo-ndk into build/jniLibs."
    val out = jniLibsDir
    val ndkDirectory = androidComponents.sdkComponents.ndkDirectory
    outputs.dir(out)
    outputs.upToDateWhen { false } // cargo knows what is up to date
    workingDir(workspaceDir)
    commandLine(
        buildList {
            addAll(listOf(cargo, "ndk", "--platform", "$minSdkVersion", "--output-dir", out.path))
            abis.forEach { addAll(listOf("--target", it)) }
            addAll(listOf("build", "--locked", "-p", "vaxpass-ffi"))
            if (rustProfile == "release") add("--release")
        },
    )
    doFirst {
        // The pinned cargo-ndk, and the pinned NDK (android.ndkVersion, installed by AGP) even
        // when ANDROID_NDK_HOME names another: cargo-ndk finds the NDK through that variable.
        val reported = ProcessBuilder(cargo, "ndk", "--version").redirectErrorStream(true).start()
            .inputStream.bufferedReader().readText().trim()
        if (!reported.endsWith(" $cargoNdkVersion")) {
            throw GradleException(
                "cargo-ndk $cargoNdkVersion is required, found \"$reported\": " +
                    "cargo install cargo-ndk --version $cargoNdkVersion --locked",
            )
        }
        environment("ANDROID_NDK_HOME", ndkDirectory.get().asFile.path)
    }
}

val checkElfAlignment by tasks.registering(Exec::class) {
    group = "vaxpass"
    description = "Fails unless every 64-bit .so in build/jniLibs and JNA's AAR is aligned for 16 KB pages."
    dependsOn(cargoNdkBuild, extractJnaNatives)
    workingDir(workspaceDir)
    commandLine("python3", "scripts/check-elf-alignment.py", jniLibsDir.path, jnaNativesDir.path)
}

android {
    namespace = "io.vaxpass"
    compileSdk = 35
    ndkVersion = ndkVersionPinned

    defaultConfig {
        minSdk = minSdkVersion
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    buildTypes {
        release { isMinifyEnabled = false }
    }

    compileOptions {
        // The bindings use java.time (Instant), native only from API 26: on 24 and 25 it comes from
        // core library desugaring, which apps using this library must enable as well.
        isCoreLibraryDesugaringEnabled = true
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            kotlin.srcDir(uniffiDir)
            jniLibs.srcDir(jniLibsDir)
        }
    }

    testOptions {
        unitTests.all { test ->
            // The JVM tests call the library built for this machine, not the Android ones.
            test.dependsOn(cargoBuildHost)
            test.systemProperty("jna.library.path", hostDebugDir.absolutePath)
        }
    }
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

dependencies {
    coreLibraryDesugaring("com.android.tools:desugar_jdk_libs:2.1.5")

    // The AAR carries libjnidispatch.so for every Android ABI (the app's abiFilters pick them).
    implementation("net.java.dev.jna:jna:$jnaVersion@aar")
    // @RequiresApi in the generated Android cleaner.
    implementation("androidx.annotation:annotation:1.9.1")
    jnaAar("net.java.dev.jna:jna:$jnaVersion@aar")

    // JVM unit tests run on the host: the plain JAR has the desktop libjnidispatch.
    testImplementation("net.java.dev.jna:jna:$jnaVersion")
    testImplementation("junit:junit:4.13.2")
    testImplementation(kotlin("test-junit"))
}

tasks.named("preBuild") { dependsOn(patchUniffiBindings, checkElfAlignment) }
