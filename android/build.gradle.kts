// The vaxpass Android library: the Rust core (libvaxpass_ffi.so for each ABI, built with cargo-ndk)
// plus the Kotlin bindings uniffi-bindgen generates from it. Nothing generated is checked in:
//   cargoBuildHost          cargo build -p vaxpass-ffi -p uniffi-bindgen (host, debug)
//   generateUniffiBindings  uniffi-bindgen on the host library -> build/generated/uniffi
//   patchUniffiBindings     scripts/patch-bindings.py kotlin on what was generated (python3)
//   cargoNdkBuild           cargo ndk for vaxpass.abis -> build/jniLibs
// The patched bindings and the Android libraries are made before preBuild. JVM unit tests (src/test) load the host library.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.21"
}

val minSdkVersion = 24

/** The Rust workspace: this module lives in its `android/` directory. */
val workspaceDir: File = rootDir.parentFile
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
        // cargo-ndk finds the NDK through ANDROID_NDK_HOME; default to the one AGP uses.
        if (System.getenv("ANDROID_NDK_HOME") == null) {
            environment("ANDROID_NDK_HOME", ndkDirectory.get().asFile.path)
        }
    }
}

android {
    namespace = "io.vaxpass"
    compileSdk = 35

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

    // The AAR carries libjnidispatch.so for every Android ABI.
    implementation("net.java.dev.jna:jna:5.14.0@aar")

    // JVM unit tests run on the host: the plain JAR has the desktop libjnidispatch.
    testImplementation("net.java.dev.jna:jna:5.14.0")
    testImplementation("junit:junit:4.13.2")
    testImplementation(kotlin("test-junit"))
}

tasks.named("preBuild") { dependsOn(patchUniffiBindings, cargoNdkBuild) }
