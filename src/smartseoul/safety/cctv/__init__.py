"""CCTV registry: cameras, sharing policies, coverage and disparity, nearest cameras, PTZ."""
