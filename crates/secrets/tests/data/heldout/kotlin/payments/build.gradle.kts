plugins {
    kotlin("jvm") version "2.0.21"
    application
}

repositories {
    mavenCentral()
    maven {
        url = uri("https://maven.pkg.github.com/acme/shared-libs")
        credentials {
            username = providers.gradleProperty("gpr.user").orNull ?: System.getenv("GITHUB_ACTOR")
            password = providers.gradleProperty("gpr.key").orNull ?: System.getenv("GITHUB_TOKEN")
        }
    }
}

dependencies {
    implementation("com.braintreepayments.gateway:braintree-java:3.34.0")
    implementation("com.squareup:square:42.0.0.20241017")
    testImplementation(kotlin("test"))
}

application { mainClass.set("com.acme.payments.MainKt") }
