-- wrk script: GET /api/v1/locate for the checkpoints of data/boundaries/checkpoints.csv, in turn.
local points = {}
for line in io.lines("data/boundaries/checkpoints.csv") do
  local name, lat, lon = line:match("^([^,]*),([%d%.%-]+),([%d%.%-]+),")
  if lat then points[#points + 1] = "/api/v1/locate?lat=" .. lat .. "&lon=" .. lon end
end
local i = 0
request = function()
  i = i % #points + 1
  return wrk.format("GET", points[i])
end
