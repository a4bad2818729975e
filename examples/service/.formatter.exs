[
  inputs: ["{mix,.formatter,run}.exs", "{lib,test,bench}/**/*.{ex,exs}"]
]
