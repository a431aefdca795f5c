# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/datadog/datadog" {
  version     = "3.46.0"
  constraints = "~> 3.46"
  hashes = [
    "h1:BeS20qh8577P5ZQpa4d/rOfsxjGu+9T4kmKFlm550w8=",
    "zh:f7ab39519b99a58a6b4047fee82cb8b469e2520693a413f98ebf76ea8bb4097c",
    "zh:9f942ca49dafc85c21a4814b1065d8ffbe145aa3d21bb171e5e5861c132230b7",
  ]
}

provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.72.1"
  constraints = "~> 5.70"
  hashes = [
    "h1:BVGPTuD4ebeJn6RxI4LFIoRM7ltT3AOzmk8axUKkO0k=",
    "zh:0bc92fd83524419ab02f3778f666c31d2eb96db7fff6f5a083f68afbb31657d4",
    "zh:eab7d24e3a7d7ac14eeb95c9791043c502ad8b30f35cbee0010e38cafaddf72d",
  ]
}
