// The vaxpass Android library as a build of its own (`gradle` in this directory, or an app's
// `includeBuild`). The Rust workspace is the parent directory.
//
// Plugin versions live here, not in build.gradle.kts: an app that `include`s the module instead
// does not read this file and supplies its own Android Gradle Plugin and Kotlin, so the module
// never asks for a second version of either. With `includeBuild`, AGP refuses two versions in one
// build: set vaxpassAgpVersion / vaxpassKotlinVersion (gradle.properties, or -P) to the app's.
pluginManagement {
    val vaxpassAgpVersion: String by settings
    val vaxpassKotlinVersion: String by settings
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
    plugins {
        id("com.android.library") version vaxpassAgpVersion
        id("org.jetbrains.kotlin.android") version vaxpassKotlinVersion
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "vaxpass"
