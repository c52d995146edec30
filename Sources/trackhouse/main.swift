print("trackhouse")
